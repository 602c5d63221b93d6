import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCountersWriter, updateRunCounters } from '../../src/events/counters.js';
import { createEventPruner, eventRetentionHours, pruneEvents } from '../../src/events/prune.js';
import { createEventStore } from '../../src/events/store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertRunRow, ruleEvent } from './helpers.js';
import { until } from '../helpers/processes.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

async function eventsOf(runId: string): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>('SELECT id FROM events WHERE run_id = $1 ORDER BY seq', [runId]);
  return rows.map((r) => r.id);
}

describe('retention', () => {
  it('pruneEvents removes rows older than the retention only, in batches', async () => {
    const { runId } = await insertRunRow(db.pool);
    const store = createEventStore(db.pool);
    store.append(Array.from({ length: 12 }, (_, i) => ruleEvent(runId, i)));
    await store.close();
    // Ages: events 0..6 two days old, 7 just past 24 h, 8 just inside, 9..11 new.
    await db.pool.query(`UPDATE events SET created_at = now() - interval '48 hours' WHERE run_id = $1 AND frame_id < 107`, [runId]);
    await db.pool.query(`UPDATE events SET created_at = now() - interval '24 hours 1 minute' WHERE run_id = $1 AND frame_id = 107`, [runId]);
    await db.pool.query(`UPDATE events SET created_at = now() - interval '23 hours 59 minutes' WHERE run_id = $1 AND frame_id = 108`, [runId]);
    expect(await pruneEvents(db.pool, 24, { batchSize: 3 })).toBe(8);
    expect(await eventsOf(runId)).toEqual([8, 9, 10, 11].map((i) => ruleEvent(runId, i).id));
    expect(await pruneEvents(db.pool, 24)).toBe(0);
  });

  it('the pruner runs by itself and stops cleanly', async () => {
    const { runId } = await insertRunRow(db.pool);
    const store = createEventStore(db.pool);
    store.append([ruleEvent(runId, 1), ruleEvent(runId, 2)]);
    await store.close();
    await db.pool.query(`UPDATE events SET created_at = now() - interval '3 hours' WHERE id = $1`, [ruleEvent(runId, 1).id]);
    const pruner = createEventPruner({ pool: db.pool, retentionHours: 2, initialDelayMs: 0, intervalMs: 50 });
    pruner.start();
    await until(async () => (await eventsOf(runId)).length === 1, 5000, 'the old event pruned');
    await pruner.stop();
    expect(await eventsOf(runId)).toEqual([ruleEvent(runId, 2).id]);
  });

  it('SIE_EVENT_RETENTION_HOURS: default 24, fractions allowed, nonsense refused', () => {
    expect(eventRetentionHours({})).toBe(24);
    expect(eventRetentionHours({ SIE_EVENT_RETENTION_HOURS: '0.5' })).toBe(0.5);
    expect(() => eventRetentionHours({ SIE_EVENT_RETENTION_HOURS: '-1' })).toThrow(/SIE_EVENT_RETENTION_HOURS/);
    expect(() => eventRetentionHours({ SIE_EVENT_RETENTION_HOURS: 'a day' })).toThrow(/positive number/);
  });
});

describe('run counters', () => {
  /** A run claimed by engine e1 at lease epoch 1, as claimRuns leaves it. */
  async function claimedRun(): Promise<string> {
    const { runId } = await insertRunRow(db.pool);
    await db.pool.query(
      `INSERT INTO engines (id, hostname, advertise_host, rtsp_port, max_runs, lease_expires_at)
       VALUES ('e1', 'h', 'h', 8554, 4, now() + interval '1 minute') ON CONFLICT (id) DO NOTHING`,
    );
    await db.pool.query(`UPDATE runs SET engine_id = 'e1', lease_epoch = 1, state = 'running' WHERE id = $1`, [runId]);
    return runId;
  }
  const read = async (runId: string) =>
    (await db.pool.query('SELECT counters, counters_at FROM runs WHERE id = $1', [runId])).rows[0] as {
      counters: unknown;
      counters_at: Date | null;
    };

  it('round-trips, and the fenced write refuses another engine or an old epoch', async () => {
    const runId = await claimedRun();
    expect(await read(runId)).toEqual({ counters: null, counters_at: null });
    const counters = { door: { in: 3, out: 1 }, lobby: { occupancy: 2 } };
    expect(await updateRunCounters(db.pool, { runId, engineId: 'e1', leaseEpoch: '1', counters })).toBe(true);
    const r = await read(runId);
    expect(r.counters).toEqual(counters);
    expect(r.counters_at).toBeInstanceOf(Date);
    expect(await updateRunCounters(db.pool, { runId, engineId: 'e1', leaseEpoch: '0', counters: { x: 1 } })).toBe(false);
    expect(await updateRunCounters(db.pool, { runId, engineId: 'e2', leaseEpoch: '1', counters: { x: 1 } })).toBe(false);
    expect((await read(runId)).counters).toEqual(counters);
  });

  it('the writer throttles to its interval, writes the latest value, and stops when fenced', async () => {
    const runId = await claimedRun();
    let fenced = 0;
    const w = createCountersWriter({ pool: db.pool, runId, engineId: 'e1', leaseEpoch: '1', intervalMs: 50, onFenced: () => fenced++ });
    for (let i = 1; i <= 100; i++) w.set({ door: { in: i } });
    await until(async () => JSON.stringify((await read(runId)).counters) === '{"door":{"in":100}}', 5000, 'the latest counters');
    // Another engine takes the run over: the next write is refused and the writer gives up.
    await db.pool.query(`UPDATE runs SET lease_epoch = 2 WHERE id = $1`, [runId]);
    w.set({ door: { in: 101 } });
    expect(await w.flush()).toBe(false);
    expect(fenced).toBe(1);
    w.set({ door: { in: 102 } });
    await w.close();
    expect((await read(runId)).counters).toEqual({ door: { in: 100 } });
  });
});
