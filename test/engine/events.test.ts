import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../../src/engine/engine.js';
import { buildApi } from '../../src/io/http/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startEngine, stopAllEngines } from '../helpers/engineHarness.js';
import { MODELS_DIR, insertModelAndConfig, insertRun, waitForRun } from '../helpers/engineFixtures.js';
import { runToEnd } from '../helpers/processes.js';
import { PLAZA } from '../helpers/media.js';

/**
 * The rules' events through the whole service: a run on the first 30 s of the plaza clip with a line across
 * the walkway; its events must be in PostgreSQL, on the API's SSE stream and at a webhook receiver, each
 * with the same ids, and the run's counters must match them.
 */
let db: TestDatabase;
let engine: Engine;
let api: FastifyInstance;
let receiver: Server;
const received: { id: string; key: string | undefined }[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const e = JSON.parse(body) as { id: string };
      received.push({ id: e.id, key: req.headers['idempotency-key'] as string | undefined });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  ({ engine } = await startEngine(db, { mediaRoot: tmpdir(), maxRuns: 2 }));
  api = await buildApi({ pool: db.pool, dataDir: MODELS_DIR });
  await api.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await stopAllEngines();
  await api?.close();
  receiver?.close();
  await db?.drop();
});

/** Reads an SSE stream until `until` says stop; returns the event ids in order. */
async function readSse(url: string, until: (ids: string[]) => boolean, timeoutMs: number): Promise<string[]> {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  const ids: string[] = [];
  try {
    const res = await fetch(url, { signal: ctrl.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    let buf = '';
    while (!until(ids)) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += new TextDecoder().decode(value);
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (data) ids.push((JSON.parse(data.slice(6)) as { id: string }).id);
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  } finally {
    clearTimeout(timer);
    ctrl.abort();
  }
  return ids;
}

describe('events from a run reach the database, SSE and a webhook', () => {
  it('delivers every event everywhere with the same ids, and the counters match', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sie-events-'));
    const clip = join(dir, 'plaza30.mp4');
    expect((await runToEnd('ffmpeg', ['-v', 'error', '-i', PLAZA, '-t', '30', '-c', 'copy', clip])).code).toBe(0);
    const fixture = JSON.parse(readFileSync('test/fixtures/plaza-rules.json', 'utf8')) as { inference: object; rules: object[] };
    const port = (receiver.address() as { port: number }).port;
    const { configId } = await insertModelAndConfig(db.pool, 'acme', {
      inference: { ...fixture.inference, iou: 0.45, every_nth_frame: 1 },
      rules: fixture.rules,
      webhook: { url: `http://127.0.0.1:${port}/hook`, timeout_s: 5 },
    });
    const id = await insertRun(db.pool, configId, `file://${clip}`);
    const apiPort = (api.server.address() as { port: number }).port;
    let expected = Number.POSITIVE_INFINITY;
    // Opened before anything happened: receives the events live (it ends at the next chunk once it has all).
    const live = readSse(`http://127.0.0.1:${apiPort}/v1/runs/${id}/events/stream`, (got) => got.length >= expected, 75_000);

    await waitForRun(db.pool, id, (r) => r.state === 'completed', 60_000);
    await engine.events.flush();
    const rows = (await db.pool.query<{ id: string; type: string; direction: string | null }>(`SELECT id, type, direction FROM events WHERE run_id = $1 ORDER BY seq`, [id])).rows;
    const crossings = rows.filter((r) => r.type === 'cross');
    expect(crossings.length).toBeGreaterThanOrEqual(4);
    expect(rows.some((r) => r.type === 'dwell')).toBe(true);
    const ids = rows.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expected = ids.length;

    // Webhook: every event, each with its id as the idempotency key (at least once: duplicates allowed).
    const t0 = Date.now();
    while (!ids.every((x) => received.some((r) => r.id === x))) {
      expect(Date.now() - t0, 'webhook deliveries').toBeLessThan(60_000);
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const r of received) expect(r.key).toBe(r.id);

    // SSE: a second reader from the start gets them all in order; the one opened before the run got them live.
    const replayed = await readSse(`http://127.0.0.1:${apiPort}/v1/runs/${id}/events/stream?since=0`, (got) => got.length >= ids.length, 15_000);
    expect(replayed).toEqual(ids);
    expect(await live).toEqual(ids);

    // Counters: what the API shows for the line equals the crossings in the table.
    const run = (await (await fetch(`http://127.0.0.1:${apiPort}/v1/runs/${id}`)).json()) as { counters: Record<string, { counts?: Record<string, { in: number; out: number }> }> };
    const walk = run.counters.walkway!.counts!.person!;
    expect(walk.in).toBe(crossings.filter((c) => c.direction === 'in').length);
    expect(walk.out).toBe(crossings.filter((c) => c.direction === 'out').length);
  }, 180_000);
});
