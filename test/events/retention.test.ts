import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountersBatch, updateRunCounters } from '../../src/events/counters.js';
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
    expect(await updateRunCounters(db.pool, 'e1', [{ runId, leaseEpoch: '1', countersJson: JSON.stringify(counters) }])).toEqual(new Set([runId]));
    const r = await read(runId);
    expect(r.counters).toEqual(counters);
    expect(r.counters_at).toBeInstanceOf(Date);
    expect(await updateRunCounters(db.pool, 'e1', [{ runId, leaseEpoch: '0', countersJson: '{"x":1}' }])).toEqual(new Set());
    expect(await updateRunCounters(db.pool, 'e2', [{ runId, leaseEpoch: '1', countersJson: '{"x":1}' }])).toEqual(new Set());
    expect((await read(runId)).counters).toEqual(counters);
  });

  it('one statement a tick writes the latest counters of every run; a run another engine took is fenced alone', async () => {
    const [a, b] = [await claimedRun(), await claimedRun()];
    const batch = new CountersBatch({ pool: db.pool, engineId: 'e1', intervalMs: 50 });
    let fenced = 0;
    const wa = batch.writer(a, '1', () => fenced++);
    const wb = batch.writer(b, '1');
    for (let i = 1; i <= 100; i++) {
      wa.set({ door: { in: i } });
      wb.set({ door: { in: 1000 + i } });
    }
    await until(async () => JSON.stringify((await read(a)).counters) === '{"door":{"in":100}}', 5000, 'the latest counters');
    expect((await read(b)).counters).toEqual({ door: { in: 1100 } });
    expect(batch.written).toBeLessThanOrEqual(4); // the latest of each, not 200 writes
    // Another engine takes run a over: its next write is refused, b's goes on.
    await db.pool.query(`UPDATE runs SET lease_epoch = 2 WHERE id = $1`, [a]);
    wa.set({ door: { in: 101 } });
    wb.set({ door: { in: 1101 } });
    expect(await wa.flush()).toBe(false);
    expect(fenced).toBe(1);
    expect((await read(b)).counters).toEqual({ door: { in: 1101 } });
    wa.set({ door: { in: 102 } });
    await wa.close();
    expect((await read(a)).counters).toEqual({ door: { in: 100 } });
    // Discarded: the latest is dropped; closed: the latest is written first.
    wb.set({ door: { in: 1102 } });
    wb.discard();
    await batch.flush();
    expect((await read(b)).counters).toEqual({ door: { in: 1101 } });
    batch.close();
  });
});
