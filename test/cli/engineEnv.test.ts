import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiEnvironment } from '../../src/cli/apiEnv.js';
import { engineEnvironment } from '../../src/cli/engine.js';
import { UsageError } from '../../src/cli/args.js';
import { SIE } from '../helpers/media.js';
import { start } from '../helpers/processes.js';

describe("the engine's environment", () => {
  // `sie serve` runs both: with SIE_DATA_DIR="" the engine used the working directory and the API ./.sie,
  // so a model uploaded through the API was never found by the engine.
  it.each([{}, { SIE_DATA_DIR: '' }, { SIE_DATA_DIR: '/data/sie' }, { SIE_DATA_DIR: 'rel/dir' }])('reads SIE_DATA_DIR as the API does: %j', (env) => {
    expect(engineEnvironment(env).dataDir).toBe(resolve(apiEnvironment(env).dataDir));
  });

  it('takes a good SIE_MQTT_URL; unset or empty means none', () => {
    expect(engineEnvironment({ SIE_MQTT_URL: ' mqtts://u:p%40ss@broker:8883 ' }).mqttUrl).toBe('mqtts://u:p%40ss@broker:8883');
    expect(engineEnvironment({ SIE_MQTT_URL: '' }).mqttUrl).toBeUndefined();
    expect(engineEnvironment({}).mqttUrl).toBeUndefined();
  });

  // Before, SIE_MQTT_URL went to the MQTT client unchecked while --mqtt-url got both checks.
  it.each([
    ['http://broker:1883', /expected mqtt:\/\/ or mqtts:\/\//],
    ['mqtt://u:p@ssW0rdX@broker:1883', /userinfo holds a character that must be percent-encoded/],
    ['mqtt://u:ssW0rdX%C3@broker:1883', /userinfo is not valid percent-encoding/],
  ])('refuses SIE_MQTT_URL=%s as a usage error naming it, without its value', (url, why) => {
    let err: unknown;
    try {
      engineEnvironment({ SIE_MQTT_URL: url });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/^environment: SIE_MQTT_URL: /);
    expect((err as Error).message).toMatch(why);
    expect((err as Error).message).not.toContain('ssW0rdX');
  });

  // Runs bin/sie (the compiled dist/: build first). Exits before connecting to any database.
  it.each(['engine', 'serve'])('sie %s exits 2 at start on a bad SIE_MQTT_URL', async (cmd) => {
    const p = start(SIE, [cmd, '--rtsp-port', '0', ...(cmd === 'serve' ? ['--port', '0'] : [])], {
      SIE_MQTT_URL: 'mqtt://u:p@ssW0rdX@broker:1883',
      SIE_DATABASE_URL: 'postgres://127.0.0.1:1/none',
    });
    // 'close', not 'exit': the last stderr bytes may still be in the pipe when 'exit' comes.
    const closed = new Promise((r) => p.child.once('close', r));
    const { code } = await p.exited;
    await closed;
    expect(code).toBe(2);
    expect(p.stderr()).toMatch(/^sie: environment: SIE_MQTT_URL: userinfo holds a character/m);
    expect(p.stdout() + p.stderr()).not.toContain('ssW0rdX');
  }, 30_000);
});
