import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createPool } from '../../../src/io/db/pool.js';
import { databaseCheck } from '../../../src/io/http/routes/health.js';

/** A "database" that accepts TCP connections and never answers: a server hung, or a network black hole. */
async function silentServer(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => void sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    connections: () => sockets.length,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('the readiness probe against a database that hangs', () => {
  it('fails within its timeout and holds one connection however many probes come', async () => {
    const db = await silentServer();
    const pool = createPool(`postgres://postgres@127.0.0.1:${db.port}/sie`, { max: 10 });
    cleanups.push(db.close, () => pool.end().catch(() => undefined));
    const t0 = performance.now();
    const checks = await Promise.all(Array.from({ length: 6 }, () => databaseCheck(pool)));
    // The probe's own 2 s, not the pool's 10 s connection timeout.
    expect(performance.now() - t0).toBeLessThan(9000);
    for (const c of checks) expect(c).toEqual({ ok: false, detail: expect.stringMatching(/no answer in 2000 ms/) });
    // A kubelet probing again while the first ping is still unanswered adds nothing either.
    expect(await databaseCheck(pool)).toMatchObject({ ok: false });
    expect(db.connections()).toBe(1);
    expect(pool.totalCount).toBe(1);
  }, 20_000);
});
