import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { createPool, ensureDatabase } from '../io/db/pool.js';
import { migrate } from '../io/db/migrate.js';
import { createPrivatePostgres, type PrivatePostgres } from './privatePostgres.js';
import { cpuMsWithReaped, descendants } from './procfs.js';
import { quantiles, type Quantiles } from './latency.js';
import { fleetLayout, startFleet, type DrySummary, type FleetProcess } from './scaleFleet.js';
import { sleep } from './children.js';

/**
 * The control plane at scale on one machine (issue 18 item 5): a private PostgreSQL, hundreds of dry
 * engines (`sie engine --dry`: the real poller, lease, claims, fencing and drain; runs that only hold
 * their cost and write their counters) in a few processes, and what a cluster lives through: a burst of
 * runs inserted at once, steady churn, two processes killed, one drained, one engine paused past its
 * lease, a PostgreSQL restart. Everything is read from PostgreSQL's own tables (transition timestamps,
 * pg_stat_activity, pg_stat_user_tables) and /proc (the server's CPU).
 */
export interface ScaleOptions {
  engines: number;
  processes: number;
  runs: number;
  leaseTtlS: number;
  pollIntervalS: number;
  /** How long the steady phase lasts (PostgreSQL's CPU, connections, claim latency of single runs). */
  steadyS: number;
  /** Runs inserted (and as many stopped) per second in the steady phase. */
  churnPerS: number;
  /** Each held run writes its counters this often. */
  writeEveryS: number;
  /** Capacity over demand once the killed and the drained engines are gone: the rest hold every run. */
  headroom: number;
  progress?: (line: string) => void;
}

export interface ScaleResult {
  options: Omit<ScaleOptions, 'progress'>;
  capacityUnitsPerEngine: number;
  totalCostUnits: number;
  postgres: { maxConnections: number; fsync: false };
  /** How fast this host runs PostgreSQL, to compare runs made on different hosts (see hostSpeed). */
  host: { select1BackendUs: number };
  burst: { runs: number; allClaimedS: number; allRunningS: number; claimMs: Quantiles; pgCpuCores: number };
  steady: {
    seconds: number;
    claimMs: Quantiles & { samples: number; max: number };
    pgCpuCores: number;
    /** The same CPU by the kind of PostgreSQL process (engines' pool and LISTEN connections, autovacuum…). */
    pgCpuCoresBy: Record<string, number>;
    connections: { total: number; maxPerEngine: number; enginesOver3: number; engines: number };
    deadTuples: Record<string, { live: number; dead: number }>;
    /** Where the server's time went in the steady phase (pg_stat_statements), most first. */
    topStatements: StatementTime[];
    /** The statements run most often: each costs the server its round trip besides its execution. */
    busiestStatements: StatementTime[];
    /** Every statement of the steady phase, a second. */
    statementsPerS: number;
  };
  kill: { processes: number; engines: number; runs: number; recoveryMaxS: number; recoveryP50S: number; boundS: number; lost: number };
  drain: { engines: number; runs: number; exitS: number; recoveryMaxS: number; lost: number };
  pause: { engineId: string; runs: number; pausedS: number; takenOverS: number; leaseLostSeen: boolean; fencedWrites: number; acceptedAfterTakeover: number };
  postgresRestart: { downS: number; leasesRenewedS: number; reclaimedRuns: number; claimAfterMs: number; lost: number };
  audit: { runEpochsWithTwoHolders: number; runsNotRunning: number };
  end: { releasedToPending: number; enginesLeft: number; processesExitedNonZero: number; summaries: DrySummary };
  /** The load average when the test began (before PostgreSQL started) and when it ended. */
  loadAtStart: [number, number, number];
  load: [number, number, number];
  seconds: number;
}

/** Source hints of the inserted runs, in turn: mostly small cameras, some 720p, a few 1080p. */
const SOURCES: ReadonlyArray<[number, number, number]> = [
  [768, 576, 10], [768, 576, 10], [768, 576, 10], [768, 576, 10], [768, 576, 10], [768, 576, 10], [768, 576, 10],
  [1280, 720, 15], [1280, 720, 15],
  [1920, 1080, 25],
];

export async function runScaleTest(o: ScaleOptions): Promise<ScaleResult> {
  const say = o.progress ?? (() => undefined);
  const began = performance.now();
  const loadAtStart = loadavg() as [number, number, number];
  const maxConnections = o.engines * 3 + 60;
  say(`scale: private PostgreSQL (max_connections ${maxConnections})`);
  // pg_stat_statements: which statements the server's CPU goes to, in the report.
  const pg = await createPrivatePostgres({ maxConnections, sharedBuffers: '128MB', settings: [`shared_preload_libraries = 'pg_stat_statements'`] });
  const dataDir = mkdtempSync(join(tmpdir(), 'sie-scale-'));
  const fleet: FleetProcess[] = [];
  const unexpectedExits: string[] = [];
  const expectedExit = new Set<FleetProcess>();
  let db: Pool | undefined;
  try {
    const url = pg.url('sie');
    await ensureDatabase(url);
    db = createPool(url, { max: 4, applicationName: 'sie-scale-harness' });
    await migrate(db);
    await db.query('CREATE EXTENSION pg_stat_statements');
    const host = await hostSpeed(db);
    say(`scale: an idle SELECT 1 costs ${host.select1BackendUs.toFixed(1)} µs of a backend's CPU on this host`);
    const configId = await insertConfig(db);
    const costs = await sourceCosts(db);
    const totalCost = Array.from({ length: o.runs }, (_, i) => costs[i % costs.length]!).reduce((a, b) => a + b, 0);
    const layout = fleetLayout(o.engines, o.processes);
    if (layout.length < 5) throw new Error('the scale test needs at least 5 processes: one paused, two killed, one drained, and engines left');
    const drainIndex = drainedProcess(layout);
    const enginesAfterFaults = o.engines - layout[1]! - layout[2]! - layout[drainIndex]!;
    const capacityUnits = Math.ceil((totalCost * o.headroom) / enginesAfterFaults);

    say(`scale: ${o.engines} dry engines in ${o.processes} processes, ${capacityUnits} cost units each`);
    fleet.push(
      ...(await startFleet(
        { databaseUrl: url, dataDir, engines: o.engines, processes: o.processes, capacityUnits, leaseTtlS: o.leaseTtlS, pollIntervalS: o.pollIntervalS, writeEveryS: o.writeEveryS },
        (p, code) => {
          if (!expectedExit.has(p)) unexpectedExits.push(`process ${p.index} exited with ${code}:\n${p.child.recent()}`);
        },
      )),
    );
    const pool = db;
    const alive = () => {
      if (unexpectedExits.length > 0) throw new Error(`a dry engine process died: ${unexpectedExits[0]}`);
    };
    // A phase that times out says what the engines said last (their warnings and errors).
    const said = () => fleet.map((p) => p.child.recent().split('\n').filter((l) => l && !l.startsWith('engine: ')).slice(-3).join('\n')).filter(Boolean).slice(0, 3).join('\n');
    await until(async () => (await count(pool, `SELECT count(*) FROM engines`)) === o.engines, 60_000, 'every engine registered', alive, said);

    // 1. The burst: every run in one INSERT.
    say(`scale: ${o.runs} runs inserted at once`);
    const burstCpu = pgCpu(pg);
    const burstAt = performance.now();
    await pool.query(
      `INSERT INTO runs (client_id, config_id, source_url, source_width, source_height, source_fps)
       SELECT 'scale', $1, 'rtsp://cam.scale/' || i, (s ->> 0)::int, (s ->> 1)::int, (s ->> 2)::float8
       FROM generate_series(0, $2 - 1) i, LATERAL (SELECT ($3::jsonb) -> (i % $4)) x(s)`,
      [configId, o.runs, JSON.stringify(SOURCES), SOURCES.length],
    );
    const insertedS = (performance.now() - burstAt) / 1000;
    let allClaimedS = Number.NaN;
    await until(
      async () => {
        const pending = await count(pool, `SELECT count(*) FROM runs WHERE state = 'pending'`);
        if (pending === 0 && Number.isNaN(allClaimedS)) allClaimedS = (performance.now() - burstAt) / 1000;
        return pending === 0 && (await count(pool, `SELECT count(*) FROM runs WHERE state <> 'running'`)) === 0;
      },
      120_000,
      'every run of the burst running',
      alive,
      said,
    );
    const allRunningS = (performance.now() - burstAt) / 1000;
    const burstCores = burstCpu.cores();
    const burstClaimMs = await claimLatenciesMs(pool, `SELECT id FROM runs`);
    // The runs stopped in the steady phase, oldest first, chosen here: the harness's own statements must
    // cost PostgreSQL next to nothing (its CPU is what is measured).
    const toStop = await idsOf(pool, `SELECT id FROM runs ORDER BY created_at, id`, []);
    say(`scale: burst: inserted in ${insertedS.toFixed(1)} s, all claimed ${allClaimedS.toFixed(1)} s, all running ${allRunningS.toFixed(1)} s`);

    // 2. Steady: single runs come and go; PostgreSQL's CPU, connections and claim latency.
    say(`scale: steady for ${o.steadyS} s (${o.churnPerS} runs in and out per second)`);
    await pool.query('SELECT pg_stat_statements_reset()');
    const steadyCpu = pgCpu(pg);
    const churned: string[] = [];
    const connections = { total: 0, maxPerEngine: 0, enginesOver3: 0, engines: 0 };
    const steadyEnd = performance.now() + o.steadyS * 1000;
    let nextConnections = 0;
    let i = o.runs;
    while (performance.now() < steadyEnd) {
      alive();
      const s = SOURCES[i % SOURCES.length]!;
      const { rows } = await pool.query<{ id: string }>(
        `INSERT INTO runs (client_id, config_id, source_url, source_width, source_height, source_fps) VALUES ('scale', $1, $2, $3, $4, $5) RETURNING id`,
        [configId, `rtsp://cam.scale/${i++}`, ...s],
      );
      churned.push(rows[0]!.id);
      // And one of the oldest stopped, as a client ending a camera's run would (the API's stop is this UPDATE).
      const stop = toStop.shift();
      if (stop) await pool.query(`UPDATE runs SET stop_requested_at = now() WHERE id = $1`, [stop]);
      if (performance.now() >= nextConnections) {
        const c = await connectionCounts(pool);
        connections.total = Math.max(connections.total, c.total);
        connections.maxPerEngine = Math.max(connections.maxPerEngine, c.maxPerEngine);
        connections.enginesOver3 = Math.max(connections.enginesOver3, c.enginesOver3);
        connections.engines = c.engines;
        nextConnections = performance.now() + 2000;
      }
      await sleep(1000 / o.churnPerS);
    }
    const steadyCores = steadyCpu.cores();
    const steadyCoresBy = await steadyCpu.coresByKind(pool);
    const statements = await steadyStatements(pool, o.steadyS);
    await until(async () => (await count(pool, `SELECT count(*) FROM runs WHERE id = ANY($1) AND state = 'pending'`, [churned])) === 0, 30_000, 'the churned runs claimed', alive, said);
    const churnMs = await claimLatenciesMs(pool, `SELECT unnest($1::uuid[])`, [churned]);
    const deadTuples = await deadTupleCounts(pool);
    const expected = await count(pool, `SELECT count(*) FROM runs WHERE stop_requested_at IS NULL`);
    await until(async () => (await count(pool, `SELECT count(*) FROM runs WHERE state = 'running' AND stop_requested_at IS NULL`)) === expected, 30_000, 'steady: every run running', alive, said);
    say(`scale: steady: PostgreSQL ${steadyCores.toFixed(3)} cores, claim p50 ${churnMs.p50.toFixed(0)} ms p99 ${churnMs.p99.toFixed(0)} ms, ${connections.maxPerEngine} connections per engine at most`);

    // 3. SIGKILL of two processes: their runs go elsewhere once their leases expire.
    const killed = fleet.slice(1, 3);
    const killedIds = killed.flatMap((p) => p.engineIds);
    const killedRuns = await idsOf(pool, `SELECT id FROM runs WHERE engine_id = ANY($1) AND stop_requested_at IS NULL`, [killedIds]);
    say(`scale: SIGKILL of ${killed.length} processes (${killedIds.length} engines, ${killedRuns.length} runs)`);
    const killAt = new Date();
    for (const p of killed) {
      expectedExit.add(p);
      p.child.proc.kill('SIGKILL');
    }
    const boundS = o.leaseTtlS + o.pollIntervalS;
    await until(async () => (await count(pool, `SELECT count(*) FROM runs WHERE id = ANY($1) AND (state <> 'running' OR engine_id = ANY($2))`, [killedRuns, killedIds])) === 0, (boundS + 60) * 1000, 'the killed engines’ runs running elsewhere', alive, said);
    const killRecovery = await recoverySeconds(pool, killedRuns, killAt);
    say(`scale: SIGKILL: all ${killedRuns.length} running elsewhere after ${killRecovery.max.toFixed(1)} s (bound ${boundS} s)`);

    // 4. SIGTERM drain of one process (about 10 engines): its runs handed back and taken at once.
    const drained = fleet[drainIndex]!;
    const drainedRuns = await idsOf(pool, `SELECT id FROM runs WHERE engine_id = ANY($1) AND stop_requested_at IS NULL`, [drained.engineIds]);
    say(`scale: SIGTERM drain of ${drained.engines} engines (${drainedRuns.length} runs)`);
    const drainAt = new Date();
    expectedExit.add(drained);
    drained.child.proc.kill('SIGTERM');
    const drainExit = await drained.child.exited;
    const drainExitS = (Date.now() - drainAt.getTime()) / 1000;
    if (drainExit.code !== 0) throw new Error(`the drained process exited with ${drainExit.code}:\n${drained.child.recent()}`);
    await until(async () => (await count(pool, `SELECT count(*) FROM runs WHERE id = ANY($1) AND state <> 'running'`, [drainedRuns])) === 0, 60_000, 'the drained runs running elsewhere', alive, said);
    const drainRecovery = await recoverySeconds(pool, drainedRuns, drainAt);
    const drainLost = await count(pool, `SELECT count(*) FROM runs WHERE id = ANY($1) AND (state <> 'running' OR engine_id = ANY($2))`, [drainedRuns, drained.engineIds]);
    say(`scale: drain: process exited after ${drainExitS.toFixed(1)} s, every run running again after ${drainRecovery.max.toFixed(1)} s`);

    // 5. SIGSTOP of the one-engine process past its lease, then SIGCONT: fenced out.
    const paused = fleet[0]!;
    const pausedId = paused.engineIds[0]!;
    const pausedRuns = await idsOf(pool, `SELECT id FROM runs WHERE engine_id = $1 AND stop_requested_at IS NULL`, [pausedId]);
    say(`scale: SIGSTOP of engine ${pausedId} (${pausedRuns.length} runs)`);
    const stopAt = new Date();
    paused.child.proc.kill('SIGSTOP');
    let takenAt: Date;
    try {
      await until(async () => (await count(pool, `SELECT count(*) FROM runs WHERE id = ANY($1) AND (state <> 'running' OR engine_id = $2)`, [pausedRuns, pausedId])) === 0, (boundS + 60) * 1000, 'the paused engine’s runs running elsewhere', alive, said);
      takenAt = new Date();
      // Longer than a counters period: every held run has a write due when it wakes.
      await sleep(Math.max(0, o.writeEveryS * 1000 - (Date.now() - stopAt.getTime())));
    } finally {
      paused.child.proc.kill('SIGCONT');
    }
    const pausedS = (Date.now() - stopAt.getTime()) / 1000;
    const leaseLostSeen = await paused.child.waitForLine(/engine lease lost/, 30_000, 'the paused engine').then(() => true, () => false);
    await sleep(2000);
    // Of the runs it held (registered again, it may take new ones, rightly).
    const acceptedAfterTakeover =
      (await count(pool, `SELECT count(*) FROM runs WHERE id = ANY($1) AND counters -> 'dry' ->> 'engine' = $2 AND counters_at > $3`, [pausedRuns, pausedId, takenAt])) +
      (await count(pool, `SELECT count(*) FROM run_transitions WHERE run_id = ANY($1) AND engine_id = $2 AND at > $3`, [pausedRuns, pausedId, takenAt]));
    const takenOverS = (takenAt.getTime() - stopAt.getTime()) / 1000;
    say(`scale: pause: runs taken over after ${takenOverS.toFixed(1)} s; woken after ${pausedS.toFixed(1)} s; lease lost ${leaseLostSeen ? 'seen' : 'NOT seen'}; ${acceptedAfterTakeover} writes accepted after the takeover`);

    // 6. PostgreSQL restarted under them.
    say('scale: PostgreSQL restart');
    const runningBefore = await count(pool, `SELECT count(*) FROM runs WHERE state = 'running'`);
    const restartAt = new Date();
    await pg.stop('fast');
    await pg.start();
    const upAt = new Date();
    const downS = (upAt.getTime() - restartAt.getTime()) / 1000;
    const liveEngines = fleet.filter((p) => p.child.alive).reduce((n, p) => n + p.engines, 0);
    await until(async () => (await count(pool, `SELECT count(*) FROM engines WHERE heartbeat_at > $1`, [upAt]).catch(() => -1)) >= liveEngines, 60_000, 'every lease renewed after the restart', alive, said);
    const leasesRenewedS = (Date.now() - upAt.getTime()) / 1000;
    const reclaimedRuns = await count(pool, `SELECT count(*) FROM run_transitions WHERE at > $1 AND reason LIKE '% lease expired'`, [restartAt]);
    const claimAfterMs = await claimOne(pool, configId, alive);
    const lostAfterRestart = runningBefore + 1 - (await count(pool, `SELECT count(*) FROM runs WHERE state = 'running'`));
    say(`scale: restart: down ${downS.toFixed(1)} s, every lease renewed ${leasesRenewedS.toFixed(1)} s after, a new run claimed in ${claimAfterMs.toFixed(0)} ms`);

    // The audit, over the whole history.
    const twoHolders = await count(
      pool,
      `SELECT count(*) FROM (SELECT run_id, lease_epoch FROM run_transitions WHERE lease_epoch IS NOT NULL GROUP BY run_id, lease_epoch HAVING count(DISTINCT engine_id) > 1) x`,
    );
    const notRunning = await count(pool, `SELECT count(*) FROM runs WHERE stop_requested_at IS NULL AND state <> 'running'`);

    // The end: every process drained.
    say('scale: SIGTERM to every process');
    const rest = fleet.filter((p) => p.child.alive);
    for (const p of rest) expectedExit.add(p);
    await Promise.all(rest.map((p) => p.child.stop(60_000)));
    const exitedNonZero = (await Promise.all(fleet.filter((p) => !killed.includes(p)).map((p) => p.child.exited))).filter((e) => e.code !== 0).length;
    const released = await count(pool, `SELECT count(*) FROM runs WHERE state = 'pending'`);
    const enginesLeft = await count(pool, `SELECT count(*) FROM engines`);
    const summaries = [...fleet.flatMap((p) => [...p.summaries.values()])].reduce(
      (a, s) => ({ claims: a.claims + s.claims, held: a.held + s.held, writes: a.writes + s.writes, fencedWrites: a.fencedWrites + s.fencedWrites }),
      { claims: 0, held: 0, writes: 0, fencedWrites: 0 },
    );
    const pausedSummary = paused.summaries.get(pausedId);
    const { progress: _progress, ...options } = o;
    return {
      options,
      capacityUnitsPerEngine: capacityUnits,
      totalCostUnits: totalCost,
      postgres: { maxConnections, fsync: false },
      host,
      burst: { runs: o.runs, allClaimedS, allRunningS, claimMs: burstClaimMs, pgCpuCores: burstCores },
      steady: { seconds: o.steadyS, claimMs: churnMs, pgCpuCores: steadyCores, pgCpuCoresBy: steadyCoresBy, connections, deadTuples, ...statements },
      kill: {
        processes: killed.length,
        engines: killedIds.length,
        runs: killedRuns.length,
        recoveryMaxS: killRecovery.max,
        recoveryP50S: killRecovery.p50,
        boundS,
        lost: await count(pool, `SELECT count(*) FROM runs WHERE id = ANY($1) AND state NOT IN ('pending', 'running')`, [killedRuns]),
      },
      drain: { engines: drained.engines, runs: drainedRuns.length, exitS: drainExitS, recoveryMaxS: drainRecovery.max, lost: drainLost },
      pause: {
        engineId: pausedId,
        runs: pausedRuns.length,
        pausedS,
        takenOverS,
        leaseLostSeen,
        fencedWrites: pausedSummary?.fencedWrites ?? 0,
        acceptedAfterTakeover,
      },
      postgresRestart: { downS, leasesRenewedS, reclaimedRuns, claimAfterMs, lost: Math.max(0, lostAfterRestart) },
      audit: { runEpochsWithTwoHolders: twoHolders, runsNotRunning: notRunning },
      end: { releasedToPending: released, enginesLeft, processesExitedNonZero: exitedNonZero, summaries },
      loadAtStart,
      load: loadavg() as [number, number, number],
      seconds: (performance.now() - began) / 1000,
    };
  } finally {
    for (const p of fleet) {
      if (p.child.alive) {
        p.child.proc.kill('SIGCONT');
        p.child.killTree();
      }
    }
    await db?.end().catch(() => undefined);
    await pg.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The backend CPU of one `SELECT 1` on the private server before the fleet starts (one connection, the
 * mean of 20,000, from /proc). PostgreSQL's CPU in the steady phase is a few hundred statements a second,
 * each a fixed cost that moves with the host's speed (this 2-core host ran it 1.5 to 2 times slower on
 * some days than others): the figure lets runs on different hosts or days be compared.
 */
async function hostSpeed(db: Pool): Promise<{ select1BackendUs: number }> {
  const client = await db.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const pid = rows[0]!.pid;
    const statement = { name: 'sie-scale-select-1', text: 'SELECT 1' };
    for (let i = 0; i < 500; i++) await client.query(statement);
    const n = 20_000;
    const before = cpuMsWithReaped(pid);
    for (let i = 0; i < n; i++) await client.query(statement);
    const after = cpuMsWithReaped(pid);
    return { select1BackendUs: before === undefined || after === undefined ? Number.NaN : ((after - before) * 1000) / n };
  } finally {
    client.release();
  }
}

/** The process drained with SIGTERM: one of 10 engines if there is one (the figure), else the 4th. */
function drainedProcess(layout: number[]): number {
  const i = layout.findIndex((n, k) => k >= 3 && n === 10);
  return i >= 0 ? i : 3;
}

/** A model and a config, as the API stores them; dry engines never open the weights. */
async function insertConfig(db: Pool): Promise<string> {
  const m = await db.query<{ id: string }>(
    `INSERT INTO models (name, format, sha256, file_path, labels_path, size_bytes, input_width, input_height, labels)
     VALUES ('yolox-nano', 'yolox', repeat('0', 64), 'models/none.onnx', 'models/none.txt', 1, 416, 416, '["person"]') RETURNING id`,
  );
  const body = JSON.stringify({ inference: { every_nth_frame: 1 }, rules: [], drawing: {} });
  const { rows } = await db.query<{ id: string }>(
    `WITH c AS (INSERT INTO configs (client_id, name, model_id, body) VALUES ('scale', 'scale', $1, $2::jsonb) RETURNING id, model_id, body)
     INSERT INTO config_versions (config_id, version, model_id, body) SELECT id, 1, model_id, body FROM c RETURNING config_id AS id`,
    [m.rows[0]!.id, body],
  );
  return rows[0]!.id;
}

/** What each source hint costs (sie_run_cost, the claims' own formula). */
async function sourceCosts(db: Pool): Promise<number[]> {
  const out: number[] = [];
  for (const [w, h, fps] of SOURCES) out.push((await db.query<{ c: number }>(`SELECT sie_run_cost($1, $2, $3, 1, 416, 416) AS c`, [w, h, fps])).rows[0]!.c);
  return out;
}

async function count(db: Pool, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ count: string }>(sql, params);
  return Number(Object.values(rows[0] ?? { count: 0 })[0]);
}

async function idsOf(db: Pool, sql: string, params: unknown[]): Promise<string[]> {
  return (await db.query<{ id: string }>(sql, params)).rows.map((r) => r.id);
}

async function until(cond: () => Promise<boolean>, timeoutMs: number, what: string, check: () => void, said: () => string = () => ''): Promise<void> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    check();
    if (await cond().catch(() => false)) return;
    if (performance.now() > end) throw new Error(`scale: timed out waiting for ${what}\n${said()}`);
    await sleep(200);
  }
}

/** Insert → first claim, ms, from the transitions (both timestamps are the server's). */
async function claimLatenciesMs(db: Pool, idsSql: string, params: unknown[] = []): Promise<Quantiles & { samples: number; max: number }> {
  const { rows } = await db.query<{ ms: number }>(
    `SELECT extract(epoch FROM (min(t.at) - r.created_at)) * 1000 AS ms
     FROM runs r JOIN run_transitions t ON t.run_id = r.id AND t.to_state = 'starting'
     WHERE r.id IN (${idsSql}) GROUP BY r.id, r.created_at`,
    params,
  );
  const ms = rows.map((r) => Number(r.ms));
  return { ...quantiles(ms), samples: ms.length, max: Math.max(...ms) };
}

/** For each run: from `since` to its first `running` after it, seconds; the slowest and the median. */
async function recoverySeconds(db: Pool, ids: string[], since: Date): Promise<{ max: number; p50: number }> {
  const { rows } = await db.query<{ s: number }>(
    `SELECT extract(epoch FROM (min(t.at) - $2::timestamptz)) AS s FROM run_transitions t
     WHERE t.run_id = ANY($1) AND t.to_state = 'running' AND t.at > $2 GROUP BY t.run_id`,
    [ids, since],
  );
  const s = rows.map((r) => Number(r.s));
  if (s.length < ids.length) return { max: Number.POSITIVE_INFINITY, p50: quantiles(s).p50 };
  return { max: Math.max(0, ...s), p50: quantiles(s).p50 };
}

/** One run inserted and waited for: how long its claim took (after a restart: LISTEN must be back). */
async function claimOne(db: Pool, configId: string, check: () => void): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO runs (client_id, config_id, source_url, source_width, source_height, source_fps) VALUES ('scale', $1, 'rtsp://cam.scale/after-restart', 768, 576, 10) RETURNING id`,
    [configId],
  );
  const id = rows[0]!.id;
  await until(async () => (await count(db, `SELECT count(*) FROM runs WHERE id = $1 AND state = 'running'`, [id])) === 1, 30_000, 'a run after the restart', check);
  return (await claimLatenciesMs(db, `SELECT $1::uuid`, [id])).p50;
}

/** The engines' connections, by application_name (`sie-engine <id>`: the pool's and the LISTEN one). */
async function connectionCounts(db: Pool): Promise<{ total: number; maxPerEngine: number; enginesOver3: number; engines: number }> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name LIKE 'sie-engine %' GROUP BY application_name`,
  );
  const n = rows.map((r) => Number(r.n));
  return { total: n.reduce((a, b) => a + b, 0), maxPerEngine: Math.max(0, ...n), enginesOver3: n.filter((x) => x > 3).length, engines: n.length };
}

export interface StatementTime {
  /** The statement's first 120 characters, whitespace folded. */
  query: string;
  calls: number;
  totalMs: number;
  meanMs: number;
}

async function steadyStatements(db: Pool, seconds: number): Promise<{ topStatements: StatementTime[]; busiestStatements: StatementTime[]; statementsPerS: number }> {
  const { rows } = await db.query<{ query: string; calls: string; total: number; mean: number }>(
    `SELECT query, calls, total_exec_time AS total, mean_exec_time AS mean FROM pg_stat_statements`,
  );
  const all = rows.map((r) => ({ query: r.query.replace(/\s+/g, ' ').slice(0, 120), calls: Number(r.calls), totalMs: Math.round(r.total), meanMs: Number(r.mean.toFixed(3)) }));
  const calls = all.reduce((n, r) => n + r.calls, 0);
  return {
    topStatements: [...all].sort((a, b) => b.totalMs - a.totalMs).slice(0, 8),
    busiestStatements: [...all].sort((a, b) => b.calls - a.calls).slice(0, 8),
    statementsPerS: calls / seconds,
  };
}

async function deadTupleCounts(db: Pool): Promise<Record<string, { live: number; dead: number }>> {
  const { rows } = await db.query<{ relname: string; live: string; dead: string }>(
    `SELECT relname, n_live_tup AS live, n_dead_tup AS dead FROM pg_stat_user_tables WHERE relname IN ('runs', 'engines', 'run_transitions') ORDER BY relname`,
  );
  return Object.fromEntries(rows.map((r) => [r.relname, { live: Number(r.live), dead: Number(r.dead) }]));
}

/**
 * PostgreSQL's CPU from now on (the postmaster and every backend, with the ones it reaped), in cores, and
 * the same by the kind of process: where it goes besides the statements pg_stat_statements times (a
 * notification wakes every listener; autovacuum; the WAL writer). One /proc sample per process at each end;
 * backends are told apart by pg_stat_activity: an engine's LISTEN connection last ran LISTEN or pg-listen's
 * liveness check.
 */
function pgCpu(pg: PrivatePostgres): { cores(): number; coresByKind(db: Pool): Promise<Record<string, number>> } {
  const pid = pg.postmasterPid();
  const sample = () => new Map((pid ? [pid, ...descendants(pid)] : []).map((p) => [p, cpuMsWithReaped(p) ?? 0]));
  const start = { cpu: sample(), at: performance.now() };
  const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  const seconds = () => (performance.now() - start.at) / 1000;
  return {
    cores: () => (pid ? (sum(sample()) - sum(start.cpu)) / 1000 / seconds() : Number.NaN),
    async coresByKind(db) {
      const end = sample();
      const s = seconds();
      const { rows } = await db.query<{ pid: number; kind: string }>(
        `SELECT pid, CASE
           WHEN backend_type <> 'client backend' THEN backend_type
           WHEN application_name LIKE 'sie-engine %' AND (query LIKE 'LISTEN %' OR query = 'SELECT pg_backend_pid()') THEN 'engine LISTEN connections'
           -- The lease's own connection (1 of --db-connections) sends only these three statements.
           WHEN application_name LIKE 'sie-engine %' AND (query LIKE 'WITH renewed AS%' OR query LIKE 'WITH alive AS%' OR query LIKE 'WITH dead AS%')
             THEN 'engine lease connections'
           WHEN application_name LIKE 'sie-engine %' THEN 'engine runs connections'
           ELSE 'other clients (the harness)' END AS kind
         FROM pg_stat_activity`,
      );
      const kindOf = new Map(rows.map((r) => [r.pid, r.kind]));
      const by: Record<string, number> = {};
      for (const [p, ms] of end) {
        const kind = p === pid ? 'postmaster' : (kindOf.get(p) ?? 'exited or unknown');
        by[kind] = (by[kind] ?? 0) + (ms - (start.cpu.get(p) ?? 0)) / 1000 / s;
      }
      return Object.fromEntries(Object.entries(by).sort((x, y) => y[1] - x[1]));
    },
  };
}
