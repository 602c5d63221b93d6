import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { MODELS_DIR, insertModelAndConfig, insertRun, waitForRun } from '../helpers/engineFixtures.js';
import { freePort, killAll, runToEnd, sleep, start } from '../helpers/processes.js';
import { PLAZA, SIE } from '../helpers/media.js';

/**
 * `sie engine --mqtt-url`: the flag wires an MQTT deliverer into the engine, so a run's events reach the
 * broker (the local Mosquitto on 1883, as in the Makefile) on sie/<client_id>/<run_id>/events, each once
 * at least, with the ids stored in PostgreSQL.
 */
const BROKER = 'mqtt://127.0.0.1:1883';
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await killAll();
  await db?.drop();
});

describe('engine --mqtt-url', () => {
  it("publishes a run's events to the broker", async () => {
    // No skip when the broker is missing: this test is about talking to one.
    const sub = await mqtt.connectAsync(BROKER, { connectTimeout: 10_000, reconnectPeriod: 0 });
    const got = new Map<string, { run_id: string }>();
    try {
      sub.on('message', (_topic, payload) => {
        const e = JSON.parse(payload.toString()) as { id: string; run_id: string };
        got.set(e.id, e);
      });
      await sub.subscribeAsync('sie/acme/+/events', { qos: 1 });

      const dir = mkdtempSync(join(tmpdir(), 'sie-mqtt-wiring-'));
      const clip = join(dir, 'clip.mp4');
      expect((await runToEnd('ffmpeg', ['-v', 'error', '-i', PLAZA, '-t', '12', '-c', 'copy', clip])).code).toBe(0);
      const fixture = JSON.parse(readFileSync('test/fixtures/plaza-rules.json', 'utf8')) as { inference: object; rules: object[] };
      const { configId } = await insertModelAndConfig(db.pool, 'acme', { inference: { ...fixture.inference, iou: 0.45, every_nth_frame: 1 }, rules: fixture.rules });

      const env = { SIE_DATABASE_URL: db.url, SIE_DATA_DIR: MODELS_DIR, SIE_MQTT_URL: '', SIE_MEDIA_ROOT: dir };
      const engine = start(SIE, ['engine', '--rtsp-port', String(await freePort()), '--poll-interval', '0.5', '--mqtt-url', BROKER], env);
      await engine.waitFor(/^engine: /m, 30_000);
      const id = await insertRun(db.pool, configId, `file://${clip}`);
      await waitForRun(db.pool, id, (r) => r.state === 'completed', 90_000);

      const stored = async () => (await db.pool.query<{ id: string }>(`SELECT id FROM events WHERE run_id = $1 ORDER BY seq`, [id])).rows.map((r) => r.id);
      // The engine flushes its event buffer shortly after the run: wait until the table is stable.
      let ids = await stored();
      for (let stable = 0; stable < 3; ) {
        await sleep(500);
        const now = await stored();
        stable = now.length === ids.length ? stable + 1 : 0;
        ids = now;
      }
      expect(ids.length).toBeGreaterThan(0);
      const t0 = Date.now();
      while (!ids.every((x) => got.has(x))) {
        if (Date.now() - t0 > 60_000) throw new Error(`MQTT delivered ${ids.filter((x) => got.has(x)).length} of ${ids.length} events`);
        await sleep(100);
      }
      for (const x of ids) expect(got.get(x)!.run_id).toBe(id);
      const undelivered = await db.pool.query(`SELECT id FROM events WHERE run_id = $1 AND mqtt_delivered_at IS NULL`, [id]);
      expect(undelivered.rows).toEqual([]);
    } finally {
      await sub.endAsync();
    }
  }, 180_000);
});
