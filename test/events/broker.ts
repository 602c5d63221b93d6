import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/processes.js';

/** Whether something accepts TCP connections on host:port within ms. */
export function listening(port: number, host = '127.0.0.1', ms = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(ms, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export interface Broker {
  url: string;
  stop(): Promise<void>;
}

/**
 * The broker the MQTT tests publish to: SIE_MQTT_URL when set (as `make test` respects it), else the local
 * Mosquitto on 1883 (`make mosquitto` starts it), else a private one we start on a free port. Throws when
 * none is possible: a machine without a broker FAILS the MQTT tests, it does not skip them.
 */
export async function mqttBroker(sharedPort = 1883): Promise<Broker> {
  const fromEnv = process.env.SIE_MQTT_URL?.trim();
  if (fromEnv) return { url: fromEnv, stop: async () => undefined };
  if (await listening(sharedPort)) return { url: `mqtt://127.0.0.1:${sharedPort}`, stop: async () => undefined };
  const own = await privateMosquitto();
  await own.start();
  return { url: own.url, stop: () => own.close() };
}

/**
 * A Mosquitto of our own, on a port fixed at creation, that a test can stop and start again on the same
 * port (a broker outage). Its config lives in a temp dir; persistence is on there, so a subscriber's
 * persistent session (clean: false, QoS 1) and the messages queued for it survive a stop/start, as they
 * would on a production broker.
 */
export interface PrivateBroker {
  readonly url: string;
  readonly port: number;
  start(): Promise<void>;
  /** SIGTERM (Mosquitto saves its persistence file), waits until it has exited and the port is closed. */
  stop(): Promise<void>;
  /** stop() and remove the temp dir. */
  close(): Promise<void>;
  readonly running: boolean;
}

export async function privateMosquitto(): Promise<PrivateBroker> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sie-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      // We run as root in the test machine: stay root so the temp dir stays writable.
      'user root',
      'log_dest stderr',
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  let stderr = '';
  const b: PrivateBroker = {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    get running() {
      return child !== undefined;
    },
    async start() {
      if (child) return;
      const c = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      c.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
      const spawnError = new Promise<string>((r) => c.once('error', (e) => r(e.message)));
      child = c;
      for (let i = 0; i < 100; i++) {
        const failed = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(() => r(undefined), 100))]);
        if (failed || c.exitCode !== null) {
          child = undefined;
          throw new Error(`cannot start mosquitto: ${failed ?? `exit ${c.exitCode}`}\n${stderr}`);
        }
        if (await listening(port)) return;
      }
      c.kill('SIGKILL');
      child = undefined;
      throw new Error(`mosquitto did not listen on ${port} within 10 s\n${stderr}`);
    },
    async stop() {
      const c = child;
      if (!c) return;
      child = undefined;
      if (c.exitCode === null && c.signalCode === null) {
        await new Promise<void>((r) => {
          c.once('exit', () => r());
          c.kill('SIGTERM');
          setTimeout(() => c.kill('SIGKILL'), 5000).unref();
        });
      }
      for (let i = 0; i < 50 && (await listening(port)); i++) await new Promise((r) => setTimeout(r, 100));
    },
    async close() {
      await b.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return b;
}
