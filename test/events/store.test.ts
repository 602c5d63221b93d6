import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventStore } from '../../src/events/store.js';
import { createPool } from '../../src/io/db/pool.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertRunRow, ruleEvent } from './helpers.js';
import { until } from '../helpers/processes.js';

let db: TestDatabase;
let runId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  ({ runId } = await insertRunRow(db.pool));
});
afterAll(() => db.drop());

const count = async (run = runId): Promise<number> =>
  (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE run_id = $1', [run])).rows[0]!.n;

describe('event store', () => {
  it('batches appends off the caller: nothing written synchronously, all rows after the interval, in order', async () => {
    const store = createEventStore(db.pool, undefined, { flushIntervalMs: 100, flushAt: 1000 });
    let flushes = 0;
    store.onFlushed(() => flushes++);
    for (let i = 0; i < 12; i++) store.append([ruleEvent(runId, i)]);
    expect(store.stats.buffered).toBe(12);
    await until(async () => (await count()) === 12, 5000, '12 rows');
    expect(flushes).toBe(1); // one INSERT for the twelve
    const { rows } = await db.pool.query('SELECT id, direction, box, extra, frame_id FROM events WHERE run_id = $1 ORDER BY seq', [runId]);
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 12 }, (_, i) => ruleEvent(runId, i).id));
    expect(rows[3]).toMatchObject({ direction: 'in', box: [0.1, 0.2, 0.3, 0.4], extra: { n: 3 }, frame_id: '103' });
    await store.close();
    expect(store.stats).toMatchObject({ appended: 12, written: 12, duplicates: 0, dropped: 0, buffered: 0 });
  });

  it('writes at once when flushAt events are buffered', async () => {
    const { runId: run } = await insertRunRow(db.pool);
    const store = createEventStore(db.pool, undefined, { flushIntervalMs: 60_000, flushAt: 5 });
    store.append([0, 1, 2, 3, 4].map((i) => ruleEvent(run, i)));
    await until(async () => (await count(run)) === 5, 5000, '5 rows without waiting for the interval');
    await store.close();
  });

  it('is idempotent by event id: the same event twice (same batch or later) is one row', async () => {
    const { runId: run } = await insertRunRow(db.pool);
    const store = createEventStore(db.pool);
    const e = ruleEvent(run, 1);
    store.append([e, e, ruleEvent(run, 2)]);
    await store.flush();
    store.append([e]);
    await store.flush();
    expect(await count(run)).toBe(2);
    expect(store.stats).toMatchObject({ written: 2, duplicates: 2 });
    // A second engine (another store) replaying the same events adds nothing either.
    const other = createEventStore(db.pool);
    other.append([e, ruleEvent(run, 2)]);
    await other.flush();
    expect(await count(run)).toBe(2);
    await Promise.all([store.close(), other.close()]);
  });

  it('keeps zone-wide events (null track, class, box) and omits nothing the table needs', async () => {
    const { runId: run } = await insertRunRow(db.pool);
    const store = createEventStore(db.pool);
    const { direction: _d, ...zone } = ruleEvent(run, 7, { type: 'enter', track_id: null, class: null, box: null, extra: {} });
    store.append([zone]);
    await store.flush();
    const { rows } = await db.pool.query('SELECT track_id, class, box, direction, extra FROM events WHERE run_id = $1', [run]);
    expect(rows).toEqual([{ track_id: null, class: null, box: null, direction: null, extra: {} }]);
    await store.close();
  });

  it('a row the database refuses (its run was deleted) is dropped alone; the rest of the batch is written', async () => {
    const { runId: gone } = await insertRunRow(db.pool);
    const { runId: run } = await insertRunRow(db.pool);
    await db.pool.query('DELETE FROM runs WHERE id = $1', [gone]);
    const store = createEventStore(db.pool);
    store.append([ruleEvent(run, 1), ruleEvent(gone, 2), ruleEvent(run, 3)]);
    await store.flush();
    expect(await count(run)).toBe(2);
    expect(store.stats).toMatchObject({ written: 2, rejected: 1, duplicates: 0, buffered: 0 });
    await store.close();
  });

  it('retries a failed write until the database answers again: every event lands once', async () => {
    const { runId: run } = await insertRunRow(db.pool);
    // The first three writes fail as a dropped connection would, then the real pool answers.
    let failuresLeft = 3;
    const flaky = {
      query: (text: string, values: unknown[]) => {
        if (failuresLeft-- > 0) return Promise.reject(Object.assign(new Error('connection terminated'), { code: '57P01' }));
        return db.pool.query(text, values);
      },
    } as unknown as typeof db.pool;
    const store = createEventStore(flaky, undefined, { flushIntervalMs: 10, retryInitialMs: 10, retryMaxMs: 40 });
    for (let i = 0; i < 20; i++) store.append([ruleEvent(run, i)]);
    // The rows can be visible before the store has read its own answer: wait for both (a loaded CI failed here).
    await until(async () => (await count(run)) === 20 && store.stats.written === 20, 15_000, 'all 20 rows after the retries');
    expect(store.stats).toMatchObject({ failures: 3, written: 20, dropped: 0, buffered: 0 });
    await store.close();
  });

  it('keeps events while the database is unreachable, retries, and drops the oldest beyond the bound', async () => {
    const { runId: run } = await insertRunRow(db.pool);
    // A pool on a port where nothing listens: every write fails like a database that is down.
    const dead = createPool('postgres://postgres@127.0.0.1:1/none', { max: 1 });
    const store = createEventStore(dead, undefined, { flushIntervalMs: 10, maxBuffered: 5, retryInitialMs: 10, retryMaxMs: 20 });
    const t0 = Date.now();
    for (let i = 0; i < 8; i++) store.append([ruleEvent(run, i)]);
    expect(Date.now() - t0).toBeLessThan(500); // append never waits for the database
    await until(() => store.stats.failures >= 2, 5000, 'retries');
    expect(store.stats).toMatchObject({ appended: 8, dropped: 3, buffered: 5, written: 0 });
    await expect(store.flush()).rejects.toThrow();
    await store.close({ timeoutMs: 200 });
    expect(store.stats.dropped).toBe(8);
    await dead.end();
  });
});
