import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';

/** Whether something accepts TCP connections on host:port within ms. */
function listening(port: number, host = '127.0.0.1', ms = 500): Promise<boolean> {
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export type Broker = { url: string; stop(): Promise<void> } | { url: undefined; reason: string };

/**
 * The local Mosquitto on 1883 when it runs; otherwise one we start ourselves on a free port (a child
 * process, ended by stop()). `url` undefined, with the reason, only when neither is possible.
 */
export async function mqttBroker(sharedPort = 1883): Promise<Broker> {
  if (await listening(sharedPort)) return { url: `mqtt://127.0.0.1:${sharedPort}`, stop: async () => undefined };
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = spawn('mosquitto', ['-p', String(port)], { stdio: 'ignore' });
  } catch (err) {
    return { url: undefined, reason: `cannot start mosquitto: ${(err as Error).message}` };
  }
  const spawnError = new Promise<string>((r) => child.once('error', (e) => r(e.message)));
  for (let i = 0; i < 40; i++) {
    const failed = await Promise.race([spawnError, new Promise<undefined>((r) => setTimeout(() => r(undefined), 100))]);
    if (failed) return { url: undefined, reason: `cannot start mosquitto: ${failed}` };
    if (child.exitCode !== null) return { url: undefined, reason: `mosquitto exited with ${child.exitCode}` };
    if (await listening(port)) {
      return {
        url: `mqtt://127.0.0.1:${port}`,
        stop: () =>
          new Promise<void>((r) => {
            child.once('exit', () => r());
            child.kill('SIGTERM');
          }),
      };
    }
  }
  child.kill('SIGKILL');
  return { url: undefined, reason: 'mosquitto did not listen within 4 s' };
}
