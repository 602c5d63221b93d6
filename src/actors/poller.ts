import { hostname } from 'node:os';
import type { Pool } from 'pg';
import { fromCallback, fromPromise, type EventObject } from 'xstate';
import { claimRuns, type ClaimedRun } from '../io/db/sql/claimRuns.js';
import { registerEngine, unregisterEngine } from '../io/db/sql/registerEngine.js';
import { renewEngineLease } from '../io/db/sql/renewEngineLease.js';
import { reclaimExpiredRuns } from '../io/db/sql/reclaimExpiredRuns.js';
import { stopRequestedRuns } from '../io/db/sql/stopRequestedRuns.js';
import { staleConfigRuns } from '../io/db/sql/configChanges.js';
import { listenForNudges } from '../io/db/notifications.js';
import { coerceError } from '../errors.js';
import type { Logger } from '../log.js';

/** What the poller does to the engine's runs (RunSupervisor in src/engine/runSupervisor.ts). */
export interface PollerRuns {
  readonly count: number;
  has(runId: string): boolean;
  launch(row: ClaimedRun): void;
  stop(runId: string): void;
  applyConfigChange(configId: string): Promise<void>;
  abandonAll(): Promise<void>;
  releaseAll(): Promise<void>;
}

export interface PollerDeps {
  pool: Pool;
  /** LISTEN needs its own connection, outside the pool. */
  databaseUrl: string;
  /** The LISTEN connection's application_name (the pool's, so pg_stat_activity counts an engine's connections). */
  applicationName?: string;
  engineId: string;
  advertiseHost: string;
  /** Read at each use: the RTSP server's port is known only after listen(). */
  rtspPort(): number;
  maxRuns: number;
  /** What this engine can hold, in cost units (CPU ms per second of video; see migration 0007). */
  capacityUnits: number;
  /** The kind of engine (cpu, gpu…): it claims runs asking for this pool or for none. */
  enginePool: string;
  /** How long our lease lives without a heartbeat; heartbeats come every third of it. */
  leaseTtlS: number;
  /** The backstops (reclaim, stop requests, config changes) run at most this often; a nudge only claims. */
  pollIntervalS?: number;
  runs: PollerRuns;
  logger: Logger;
  /** Each time the lease was written: at registration and at every heartbeat that renewed it (how long the
   *  statement took), for readiness and the lease renewal metric. */
  onLeaseWritten?(e: { kind: 'registered' | 'renewed'; seconds: number }): void;
}

/**
 * The poller machine's actors (src/machines/poller.machine.ts), wired to PostgreSQL and the engine's runs.
 * Pass the result to `pollerMachine.provide({ actors })`.
 */
export function createPollerActors(d: PollerDeps) {
  // A drain or a lost lease does not cancel a claim already sent: abandonRuns and release wait for it.
  let claimInFlight: Promise<unknown> = Promise.resolve();
  const backstops = { lastMs: Number.NEGATIVE_INFINITY };
  const database: DatabaseSeen = { reachable: true, backSinceMs: Number.NEGATIVE_INFINITY };
  return {
    register: fromPromise(() => registerActor(d)),
    heartbeat: fromCallback<EventObject>(({ sendBack }) => heartbeatActor(d, sendBack, database)),
    listener: fromCallback<EventObject>(({ sendBack }) => listenerActor(d, sendBack)),
    claim: fromPromise(() => {
      const claiming = claimRound(d, backstops, database).catch((err: unknown) => {
        // The machine waits a poll interval and tries again; say why this round failed.
        d.logger.warn({ err: coerceError(err).message }, 'claim round failed');
        throw err;
      });
      claimInFlight = claiming.catch(() => undefined);
      return claiming;
    }),
    abandonRuns: fromPromise(() => abandonRunsActor(d, claimInFlight)),
    release: fromPromise(() => releaseActor(d, claimInFlight)),
  };
}

/** register: writes the engine row, our lease. */
async function registerActor(d: PollerDeps): Promise<void> {
  const started = performance.now();
  await registerEngine(d.pool, {
    id: d.engineId,
    hostname: hostname(),
    advertiseHost: d.advertiseHost,
    rtspPort: d.rtspPort(),
    maxRuns: d.maxRuns,
    capacityUnits: d.capacityUnits,
    pool: d.enginePool,
    leaseTtlS: d.leaseTtlS,
  });
  d.onLeaseWritten?.({ kind: 'registered', seconds: (performance.now() - started) / 1000 });
  d.logger.info({ maxRuns: d.maxRuns, capacityUnits: d.capacityUnits, pool: d.enginePool, leaseTtlS: d.leaseTtlS }, 'engine registered');
}

/** What the heartbeat saw of the database: whether its last renewal got through, and since when it does again. */
interface DatabaseSeen {
  reachable: boolean;
  backSinceMs: number;
}

/** heartbeat: renews the lease every third of its TTL; sends lease.lost when another engine has it. */
function heartbeatActor(d: PollerDeps, sendBack: (e: EventObject) => void, database: DatabaseSeen): () => void {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    const started = performance.now();
    renewEngineLease(d.pool, d.engineId, d.leaseTtlS)
      .then((ok) => {
        if (!database.reachable) {
          database.reachable = true;
          database.backSinceMs = performance.now();
        }
        if (ok) d.onLeaseWritten?.({ kind: 'renewed', seconds: (performance.now() - started) / 1000 });
        else {
          d.logger.error('engine lease lost: another engine has taken our runs');
          sendBack({ type: 'lease.lost' });
        }
      })
      .catch((err: unknown) => {
        database.reachable = false;
        d.logger.warn({ err: coerceError(err).message }, 'heartbeat failed');
      })
      .finally(() => (busy = false));
  }, (d.leaseTtlS * 1000) / 3);
  return () => clearInterval(timer);
}

/** listener: LISTEN for new runs (poller.nudge), stop requests and config changes, reconnecting. */
function listenerActor(d: PollerDeps, sendBack: (e: EventObject) => void): () => void {
  let closed = false;
  let handle: { close(): Promise<void> } | undefined;
  let retry: NodeJS.Timeout | undefined;
  const onNotify = (channel: string, payload: string) => {
    // The payload is the pool the run asks for ('' = any; migration 0008): runs for another pool are not ours.
    if (channel === 'sie_runs') {
      if (payload === '' || payload === d.enginePool) sendBack({ type: 'poller.nudge' });
    }
    else if (channel === 'sie_run_stop' && d.runs.has(payload)) d.runs.stop(payload);
    else if (channel === 'sie_config_changed') {
      d.runs.applyConfigChange(payload).catch((err: unknown) => d.logger.warn({ err: coerceError(err).message }, 'config change failed'));
    }
  };
  // Polling covers us meanwhile, but LISTEN is what makes pickup immediate: keep trying to get it back.
  const connect = () => {
    listenForNudges(d.databaseUrl, onNotify, d.logger, d.applicationName)
      .then((h) => (closed ? void h.close() : (handle = h)))
      .catch((err: unknown) => {
        d.logger.warn({ err: coerceError(err).message }, 'LISTEN unavailable; polling only, retrying in 5 s');
        if (!closed) retry = setTimeout(connect, 5000);
      });
  };
  connect();
  return () => {
    closed = true;
    clearTimeout(retry);
    void handle?.close();
  };
}

/**
 * claim: one round. Reclaims dead engines' runs, applies stops and config changes (the backstops, at most
 * once a poll interval), claims what fits. A NOTIFY wakes every engine at once: at 200 engines, each new run
 * meant 800 statements when every round ran the backstops too; a nudge needs only the claim.
 */
async function claimRound(d: PollerDeps, backstops: { lastMs: number }, database: DatabaseSeen): Promise<number> {
  const now = performance.now();
  if (now - backstops.lastMs >= (d.pollIntervalS ?? 0) * 1000) {
    backstops.lastMs = now;
    // Not in the first TTL after the database came back to us: every engine's heartbeat failed alike
    // meanwhile, and 200 engines reconnecting at once renew late; taking their leases for expired would
    // stop thousands of healthy streams (the scale test's restart reclaimed 3,244 runs). A dead engine's
    // runs wait one TTL more.
    if (database.reachable && now - database.backSinceMs >= d.leaseTtlS * 1000) await reclaimDeadEnginesRuns(d);
    await applyRequestedStops(d);
    await syncConfigs(d);
  }
  return claimNewRuns(d);
}

/** Runs of engines whose lease expired go back to pending, so this round (or another engine) can take them. */
async function reclaimDeadEnginesRuns(d: PollerDeps): Promise<void> {
  await reclaimExpiredRuns(d.pool, d.engineId);
}

/** Stop requests a missed NOTIFY did not deliver. */
async function applyRequestedStops(d: PollerDeps): Promise<void> {
  for (const id of await stopRequestedRuns(d.pool, d.engineId)) d.runs.stop(id);
}

/** Config changes a missed NOTIFY did not deliver: each changed config once, however many runs use it. */
async function syncConfigs(d: PollerDeps): Promise<void> {
  for (const configId of new Set((await staleConfigRuns(d.pool, d.engineId)).map((r) => r.config_id))) {
    await d.runs.applyConfigChange(configId);
  }
}

/** Claims the pending runs that fit our free capacity (runs and cost units) and launches them; returns how many. */
async function claimNewRuns(d: PollerDeps): Promise<number> {
  const claimed = await claimRuns(d.pool, {
    engineId: d.engineId,
    maxRuns: d.maxRuns - d.runs.count,
    capacityUnits: d.capacityUnits,
    pool: d.enginePool,
    advertiseHost: d.advertiseHost,
    rtspPort: d.rtspPort(),
  });
  for (const row of claimed) {
    d.logger.info({ runId: row.id, mount: row.output_mount }, 'run claimed');
    d.runs.launch(row);
  }
  return claimed.length;
}

/** abandonRuns: our lease was lost; stop every run without writing (another engine owns them now). */
async function abandonRunsActor(d: PollerDeps, claimInFlight: Promise<unknown>): Promise<void> {
  await claimInFlight;
  await d.runs.abandonAll();
}

/** release: SIGTERM drain; hands every run back to pending, then removes the engine row. */
async function releaseActor(d: PollerDeps, claimInFlight: Promise<unknown>): Promise<void> {
  // Runs a claim still in flight takes are launched when its answer comes: release them too,
  // before the engine row goes (unregistering first would leave them owned by nobody, forever).
  await claimInFlight;
  await d.runs.releaseAll();
  await unregisterEngine(d.pool, d.engineId);
  d.logger.info('engine stopped; runs released');
}
