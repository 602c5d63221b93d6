import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertModelAndConfig, insertRun } from '../helpers/engineFixtures.js';
import { byKindName, GPU_KEDA_VALUES, unpackHelm, type Helm } from './chart.js';

// The ScaledObject's PostgreSQL triggers, rendered by the chart and run as KEDA runs them (each query on its
// own, the first column of its one row) against a database migrated with sie's migrations and seeded with
// engines and runs: the replica count they imply is the HPA's, max over the triggers of ceil(value / target).

interface Trigger { type: string; name?: string; metricType: string; metadata: { query: string; targetQueryValue: string; activationTargetQueryValue: string } }
interface Triggers { triggers: Trigger[]; min: number; max: number }

let chart: Helm;
let db: TestDatabase;
let configId: string;

beforeAll(async () => {
  chart = unpackHelm();
  db = await createTestDatabase();
  ({ configId } = await insertModelAndConfig(db.pool));
});

afterAll(async () => {
  chart?.dispose();
  await db?.drop();
});

function triggers(extra: string[]): Triggers {
  const so = byKindName(chart.render(extra), 'ScaledObject', 'sie-engine-cpu').spec as { triggers: Trigger[]; minReplicaCount: number; maxReplicaCount: number };
  return { triggers: so.triggers, min: so.minReplicaCount, max: so.maxReplicaCount };
}

function trigger(t: Triggers, name: string): Trigger {
  const x = t.triggers.find((y) => y.name === name);
  expect(x, `trigger ${name}`).toBeDefined();
  return x!;
}

/** What one trigger's query returns now, as KEDA reads it (a number). */
async function value(pool: Pool, t: Trigger): Promise<number> {
  const r = await pool.query<Record<string, unknown>>(t.metadata.query);
  expect(r.rows).toHaveLength(1);
  return Number(Object.values(r.rows[0]!)[0]);
}

/** The HPA's count for AverageValue metrics: the largest ceil(value / target), within min..max. */
async function replicas(pool: Pool, t: Triggers): Promise<{ values: Record<string, number>; replicas: number }> {
  const values: Record<string, number> = {};
  let desired = 0;
  for (const x of t.triggers) {
    const v = await value(pool, x);
    values[x.name!] = v;
    desired = Math.max(desired, Math.ceil(v / Number(x.metadata.targetQueryValue)));
  }
  return { values, replicas: Math.min(t.max, Math.max(t.min, desired)) };
}

async function reset(): Promise<void> {
  await db.pool.query('TRUNCATE runs, engines CASCADE');
}

async function insertEngine(id: string, e: { pool: string; capacityUnits: number; maxRuns: number; live: boolean }): Promise<void> {
  await db.pool.query(
    `INSERT INTO engines (id, hostname, advertise_host, rtsp_port, max_runs, capacity_units, pool, lease_expires_at)
     VALUES ($1, 'h', '10.0.0.1', 8554, $2, $3, $4, now() + make_interval(secs => $5))`,
    [id, e.maxRuns, e.capacityUnits, e.pool, e.live ? 3600 : -60],
  );
}

/** A cheap source: 640 x 512 at 5 fps with YOLOX-nano on every frame, 114 cost units. */
const CHEAP = { source_width: 640, source_height: 512, source_fps: 5 };
/** Nothing known of the source (1080p at 25 fps assumed): 915 cost units. */
const DEFAULT_COST = 915;

async function insertRuns(n: number, extra: Record<string, unknown> = {}): Promise<void> {
  for (let i = 0; i < n; i++) await insertRun(db.pool, configId, `rtsp://cam/${Math.random()}`, extra);
}

/** Runs no CPU engine will hold: finished, a pending one asked to stop, one asking for the GPU pool. */
async function insertIgnoredRuns(): Promise<void> {
  for (const state of ['stopped', 'failed', 'completed']) await insertRuns(2, { state });
  await insertRuns(2, { stop_requested_at: new Date() });
  await insertRuns(2, { pool: 'gpu' });
}

describe('KEDA triggers (templates/keda.yaml) on a real database', () => {
  it('renders a cost trigger and a runs trigger, targets capacityUnits × 0.8 and maxRuns × 0.8', () => {
    for (const extra of [['--set', 'keda.enabled=true'], ['-f', GPU_KEDA_VALUES]]) {
      const t = triggers(extra);
      expect(t.triggers.map((x) => [x.name, x.type, x.metricType, x.metadata.activationTargetQueryValue])).toEqual([
        ['cost', 'postgresql', 'AverageValue', '0'],
        ['runs', 'postgresql', 'AverageValue', '0'],
      ]);
      expect(Number(trigger(t, 'cost').metadata.targetQueryValue)).toBeCloseTo(2000 * 0.8);
      expect(Number(trigger(t, 'runs').metadata.targetQueryValue)).toBeCloseTo(4 * 0.8);
    }
    const t = triggers(['--set', 'keda.enabled=true', '--set', 'engine.maxRuns=10', '--set', 'keda.targetUtilization=0.5']);
    expect(trigger(t, 'runs').metadata.targetQueryValue).toBe('5');
  });

  it('cheap runs: the runs trigger asks for engines enough to hold them all, where their cost alone would leave most pending', async () => {
    await reset();
    const t = triggers(['--set', 'keda.enabled=true']);
    await insertEngine('cpu-1', { pool: 'cpu', capacityUnits: 2000, maxRuns: 4, live: true });
    // 40 cheap runs, 4 of them held by a CPU engine, the rest pending; and runs that must not count.
    await insertRuns(4, { ...CHEAP, state: 'running', engine_id: 'cpu-1' });
    await insertRuns(36, CHEAP);
    await insertIgnoredRuns();
    const costs = await db.pool.query<{ cost: number }>(`SELECT DISTINCT cost FROM run_costs c JOIN runs r ON r.id = c.run_id WHERE r.source_fps = 5`);
    expect(costs.rows.map((r) => r.cost)).toEqual([114]);
    const r = await replicas(db.pool, t);
    expect(r.values).toEqual({ cost: 40 * 114, runs: 40 });
    // By cost: ceil(4560 / 1600) = 3 engines, 12 runs; by number: ceil(40 / 3.2) = 13 engines, 52 slots.
    expect(Math.ceil(r.values.cost! / 1600)).toBe(3);
    expect(r.replicas).toBe(13);
    expect(r.replicas * 4).toBeGreaterThanOrEqual(40);
  });

  it('costly runs: the cost trigger still binds', async () => {
    await reset();
    const t = triggers(['--set', 'keda.enabled=true']);
    await insertRuns(10);
    await insertIgnoredRuns();
    const r = await replicas(db.pool, t);
    expect(r.values).toEqual({ cost: 10 * DEFAULT_COST, runs: 10 });
    // ceil(9150 / 1600) = 6 engines by cost (12,000 units); by number ceil(10 / 3.2) = 4 would overload them.
    expect(r.replicas).toBe(6);
  });

  describe('with the GPU pool: only the free room of live GPU engines is subtracted', () => {
    const gpu = () => triggers(['-f', GPU_KEDA_VALUES]);
    const GPU = { pool: 'gpu', capacityUnits: 8000, maxRuns: 8 };

    it('no GPU engine (its pods Pending or crash-looping): the CPU pool takes every run', async () => {
      await reset();
      await insertRuns(10);
      await insertIgnoredRuns();
      const r = await replicas(db.pool, gpu());
      // The pool's nominal 2 × 8000 units would have cancelled the whole load (1 engine for 9150 units).
      expect(r).toEqual({ values: { cost: 10 * DEFAULT_COST, runs: 10 }, replicas: 6 });
    });

    it('a live GPU engine with room: its free cost and slots come off the CPU pool\'s load, what it holds is not counted', async () => {
      await reset();
      await insertEngine('gpu-1', { ...GPU, live: true });
      await insertRuns(4, { state: 'running', engine_id: 'gpu-1' });
      await insertRuns(10);
      const r = await replicas(db.pool, gpu());
      // Free: 8000 - 4 × 915 = 4340 units and 8 - 4 = 4 slots.
      expect(r.values).toEqual({ cost: 10 * DEFAULT_COST - (8000 - 4 * DEFAULT_COST), runs: 10 - 4 });
      expect(r.replicas).toBe(4);
    });

    it('a GPU engine whose lease lapsed: no room, and the runs it held count (they are reclaimed)', async () => {
      await reset();
      await insertEngine('gpu-1', { ...GPU, live: false });
      await insertRuns(4, { state: 'running', engine_id: 'gpu-1' });
      await insertRuns(10);
      const r = await replicas(db.pool, gpu());
      expect(r).toEqual({ values: { cost: 14 * DEFAULT_COST, runs: 14 }, replicas: 9 });
    });

    it('a full GPU engine takes nothing off, and one over its room (clamped at 0) adds nothing either', async () => {
      await reset();
      // 9 runs of its own pool: 8235 units over 8000, 9 runs over 8 slots.
      await insertEngine('gpu-full', { ...GPU, live: true });
      await insertRuns(9, { state: 'running', engine_id: 'gpu-full', pool: 'gpu' });
      await insertRuns(10);
      expect(await replicas(db.pool, gpu())).toEqual({ values: { cost: 10 * DEFAULT_COST, runs: 10 }, replicas: 6 });
      // Beside an empty one: only the empty one's room comes off (not less the other's excess).
      await insertEngine('gpu-empty', { ...GPU, live: true });
      expect((await replicas(db.pool, gpu())).values).toEqual({ cost: 10 * DEFAULT_COST - 8000, runs: 10 - 8 });
    });

    it('pending runs asking for the GPU pool take its room first', async () => {
      await reset();
      await insertEngine('gpu-1', { ...GPU, live: true });
      await insertRuns(4, { pool: 'gpu' });
      await insertRuns(10);
      const r = await replicas(db.pool, gpu());
      expect(r.values).toEqual({ cost: 10 * DEFAULT_COST - (8000 - 4 * DEFAULT_COST), runs: 10 - (8 - 4) });
      // More of them than it has room for: nothing comes off, and nothing is added.
      await insertRuns(6, { pool: 'gpu' });
      expect((await replicas(db.pool, gpu())).values).toEqual({ cost: 10 * DEFAULT_COST, runs: 10 });
    });
  });

  it('nothing to run: both triggers read 0, the pool stays at keda.minReplicas', async () => {
    await reset();
    await insertIgnoredRuns();
    const r = await replicas(db.pool, triggers(['--set', 'keda.enabled=true']));
    expect(r).toEqual({ values: { cost: 0, runs: 0 }, replicas: 1 });
  });
});
