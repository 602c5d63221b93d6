import { hostname } from 'node:os';
import type { Pool } from 'pg';
import { fromCallback, fromPromise, type EventObject } from 'xstate';
import { claimRuns, type ClaimedRun } from '../io/db/sql/claimRuns.js';
import { registerEngine, unregisterEngine } from '../io/db/sql/registerEngine.js';
import { renewEngineLease } from '../io/db/sql/renewEngineLease.js';
import { reclaimExpiredRuns } from '../io/db/sql/reclaimExpiredRuns.js';
import { releaseRun } from '../io/db/sql/releaseEngineRuns.js';
import { listenForNudges } from '../io/db/notifications.js';
import { answersNudge, parseNudge } from './nudgeAnswer.js';
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
  /** Whether the runs' own statements are queued (their pool has waiters). A claim round after one that took
   *  runs waits for them: with the lease on its own connection, claims would otherwise outrun the writes
   *  of the runs they launched (the scale test's burst: 120 transitions queued on one connection). */
  runsWritesQueued?(): boolean;
  /** How often to claim while LISTEN is down (and half of it, at most 0.5 s: how long a claimable run waits
   *  for the nudged engines before any engine's heartbeat claims it). */
  pollIntervalS?: number;
  runs: PollerRuns;
  logger: Logger;
  /** Each time the lease was written: at registration and at every heartbeat that renewed it (how long the
   *  statement took), for readiness and the lease renewal metric. */
  onLeaseWritten?(e: { kind: 'registered' | 'renewed'; seconds: number }): void;
}

/**
 * What the poller's actors share: what the heartbeat learnt, whether LISTEN is up, whether a claim is due.
 *
 * At 200 engines a fleet that polled every second cost PostgreSQL 4 statements per engine per second
 * (reclaim, stop requests, config changes, claim), and each NOTIFY woke every engine into a claim. Now the
 * heartbeat carries the backstops (one statement per engine per third of a TTL), a reclaim is made when a
 * lease is due to expire, and a claim only when there may be something to take: a nudge this engine
 * answers, a run the heartbeat saw waiting, the round before took runs, one of our runs ended, or LISTEN is
 * down (then every poll interval, as before).
 */
interface PollerShared {
  claimWanted: boolean;
  listening: boolean;
  place?: { rank: number; peers: number };
  /** How many runs we held after the last claim: fewer now = room freed, which a waiting run may fit. */
  runsAfterLastClaim: number;
  lastClaimed: number;
  reclaimTimer?: NodeJS.Timeout;
  /** The drain has begun: a claim round still waiting to send its claim sends none. */
  draining: boolean;
  /** Configs whose new version is being applied to our runs: since when, and whether it was asked for again
   *  meanwhile (see applyConfigChange). */
  applyingConfigs: Map<string, { sinceMs: number; again: boolean }>;
}

/**
 * The poller machine's actors (src/machines/poller.machine.ts), wired to PostgreSQL and the engine's runs.
 * Pass the result to `pollerMachine.provide({ actors })`.
 */
export function createPollerActors(d: PollerDeps) {
  // A drain or a lost lease does not cancel a claim already sent: abandonRuns and release wait for it.
  let claimInFlight: Promise<unknown> = Promise.resolve();
  const database: DatabaseSeen = { reachable: true, backSinceMs: Number.NEGATIVE_INFINITY };
  const shared: PollerShared = { claimWanted: true, listening: false, runsAfterLastClaim: 0, lastClaimed: 0, draining: false, applyingConfigs: new Map() };
  return {
    register: fromPromise(async (): Promise<void> => {
      await registerActor(d);
      shared.claimWanted = true;
    }),
    heartbeat: fromCallback<EventObject>(({ sendBack }) => heartbeatActor(d, sendBack, database, shared)),
    listener: fromCallback<EventObject>(({ sendBack }) => listenerActor(d, sendBack, shared)),
    claim: fromPromise(() => {
      const claiming = claimRound(d, shared).catch((err: unknown) => {
        // The machine waits a poll interval and tries again; say why this round failed.
        d.logger.warn({ err: coerceError(err).message }, 'claim round failed');
        shared.claimWanted = true;
        throw err;
      });
      claimInFlight = claiming.catch(() => undefined);
      return claiming;
    }),
    abandonRuns: fromPromise(() => abandonRunsActor(d, claimInFlight)),
    release: fromPromise(() => {
      shared.draining = true;
      return releaseActor(d, claimInFlight);
    }),
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

/** A claim is due: the round the nudge starts sends one. */
function claimNow(shared: PollerShared, sendBack: (e: EventObject) => void): void {
  shared.claimWanted = true;
  sendBack({ type: 'poller.nudge' });
}

/** What the heartbeat saw of the database: whether its last renewal got through, and since when it does again. */
interface DatabaseSeen {
  reachable: boolean;
  backSinceMs: number;
}

/**
 * heartbeat: renews the lease every third of its TTL, and acts on what comes back with it: stop requests
 * and config changes a notification missed, a run waiting that the nudged engines did not take, the next
 * lease to expire. Sends lease.lost when another engine has our runs.
 */
function heartbeatActor(d: PollerDeps, sendBack: (e: EventObject) => void, database: DatabaseSeen, shared: PollerShared): () => void {
  let busy = false;
  let beats = 0;
  // An answer that comes after the actor stopped (lease lost, drain) acts on nothing: no reclaim timer
  // would be cleared any more, no stop or hand-back is ours to make.
  let stopped = false;
  const intervalMs = (d.leaseTtlS * 1000) / 3;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    const started = performance.now();
    // Config changes a notification missed: once a TTL (every third beat), reading every run we hold.
    const checkConfigs = beats++ % 3 === 0;
    renewEngineLease(d.pool, { engineId: d.engineId, leaseTtlS: d.leaseTtlS, pool: d.enginePool, pendingAfterS: pendingAfterS(d), checkConfigs })
      .then((answer) => {
        if (stopped) return;
        if (!database.reachable) {
          database.reachable = true;
          database.backSinceMs = performance.now();
        }
        if (!answer) {
          d.logger.error('engine lease lost: another engine has taken our runs');
          sendBack({ type: 'lease.lost' });
          return;
        }
        d.onLeaseWritten?.({ kind: 'renewed', seconds: (performance.now() - started) / 1000 });
        shared.place = { rank: answer.rank, peers: answer.peers };
        if (answer.pendingWaiting) claimNow(shared, sendBack);
        if (answer.nextOtherExpiryS !== null && answer.nextOtherExpiryS * 1000 < intervalMs) {
          scheduleReclaim(d, database, shared, Math.max(0, answer.nextOtherExpiryS * 1000));
        }
        for (const id of answer.stopRequested) if (d.runs.has(id)) d.runs.stop(id);
        for (const held of answer.heldRuns) if (!d.runs.has(held.id)) handBack(d, held);
        for (const configId of answer.staleConfigs) applyConfigChange(d, shared, configId);
      })
      .catch((err: unknown) => {
        database.reachable = false;
        d.logger.warn({ err: coerceError(err).message }, 'heartbeat failed');
      })
      .finally(() => (busy = false));
  }, intervalMs);
  return () => {
    stopped = true;
    clearInterval(timer);
    clearTimeout(shared.reclaimTimer);
  };
}

/**
 * A run the database says we hold, claimed a TTL ago, that we do not run: nothing else would ever hand it
 * back (our heartbeats keep the lease, so no reclaim comes). Released, fenced by its epoch, as a drain would.
 */
function handBack(d: PollerDeps, held: { id: string; leaseEpoch: string }): void {
  d.logger.warn({ runId: held.id }, 'run held in the database but not running here (a claim whose answer was lost, or an end not written): handing it back');
  releaseRun(d.pool, { runId: held.id, engineId: d.engineId, leaseEpoch: held.leaseEpoch, reason: 'released: held in the database but not run by its engine' }).catch(
    (err: unknown) => d.logger.warn({ runId: held.id, err: coerceError(err).message }, 'hand-back failed; tried again at a later heartbeat'),
  );
}

/**
 * A config's new version to its runs, in the background: applying it loads a detector per run, seconds
 * each, and the heartbeat that found it must not wait (its next beats would be skipped past the lease).
 * One at a time per config (the notification and the heartbeat's backstop may ask together); asked again
 * meanwhile (a newer version may have been written since the one in flight read it), it runs once more after.
 */
function applyConfigChange(d: PollerDeps, shared: PollerShared, configId: string): void {
  const inFlight = shared.applyingConfigs.get(configId);
  // One that has not finished in a few TTLs is stuck (a fetch that never answers): it no longer holds back
  // the versions written since.
  if (inFlight && performance.now() - inFlight.sinceMs < APPLY_STUCK_TTLS * d.leaseTtlS * 1000) {
    inFlight.again = true;
    return;
  }
  const entry = { sinceMs: performance.now(), again: false };
  shared.applyingConfigs.set(configId, entry);
  d.runs
    .applyConfigChange(configId)
    .catch((err: unknown) => d.logger.warn({ configId, err: coerceError(err).message }, 'config change failed'))
    .finally(() => {
      if (shared.applyingConfigs.get(configId) !== entry) return;
      shared.applyingConfigs.delete(configId);
      if (entry.again) applyConfigChange(d, shared, configId);
    });
}

/** How many lease TTLs a config change may take to apply before a newer ask starts another beside it. */
const APPLY_STUCK_TTLS = 3;

/** How long a claimable run waits for the nudged engines before every engine's heartbeat claims it. */
function pendingAfterS(d: PollerDeps): number {
  return Math.min(1, d.pollIntervalS ?? 1) / 2;
}

/**
 * A reclaim when another engine's lease is due to expire before our next heartbeat: a dead engine's
 * runs move at its expiry (plus a little, so its own late heartbeat can still win), not at the next poll.
 * Every engine of the fleet schedules it; the first does the work and the others find nothing.
 */
function scheduleReclaim(d: PollerDeps, database: DatabaseSeen, shared: PollerShared, inMs: number): void {
  clearTimeout(shared.reclaimTimer);
  shared.reclaimTimer = setTimeout(() => {
    // Not in the first TTL after the database came back to us: every engine's heartbeat failed alike
    // meanwhile, and 200 engines reconnecting at once renew late; taking their leases for expired would
    // stop thousands of healthy streams (the scale test's restart reclaimed 3,244 runs). A dead engine's
    // runs wait one TTL more.
    const sinceBack = performance.now() - database.backSinceMs;
    if (!database.reachable) return;
    if (sinceBack < d.leaseTtlS * 1000) return scheduleReclaim(d, database, shared, d.leaseTtlS * 1000 - sinceBack);
    reclaimExpiredRuns(d.pool, d.engineId)
      .then((n) => {
        if (n > 0) d.logger.info({ runs: n }, 'runs of expired engines put back to pending');
      })
      .catch((err: unknown) => {
        // A claim of the dead engine that committed while this reclaim ran (migration 0012): the next
        // heartbeat sees the lease still expired and reclaims again, runs and all.
        if (isEngineRowStillNamed(err)) d.logger.info('reclaim raced a claim of the expired engine; trying again at the next heartbeat');
        else d.logger.warn({ err: coerceError(err).message }, 'reclaim failed');
      });
  }, inMs + 50 + Math.random() * 100);
  shared.reclaimTimer.unref();
}

/** listener: LISTEN for new runs (poller.nudge), stop requests and config changes, reconnecting. */
function listenerActor(d: PollerDeps, sendBack: (e: EventObject) => void, shared: PollerShared): () => void {
  let closed = false;
  let handle: { close(): Promise<void> } | undefined;
  let retry: NodeJS.Timeout | undefined;
  const onNotify = (channel: string, payload: string) => {
    if (channel === 'sie_runs') {
      // The payload is the pool the run asks for ('' = any) and the transaction (migration 0009): runs for
      // another pool are not ours, and a few engines of ours answer each nudge.
      const nudge = parseNudge(payload);
      if ((nudge.pool === '' || nudge.pool === d.enginePool) && answersNudge(nudge.token, shared.place)) claimNow(shared, sendBack);
    } else if (channel === 'sie_run_stop' && d.runs.has(payload)) d.runs.stop(payload);
    else if (channel === 'sie_config_changed') applyConfigChange(d, shared, payload);
  };
  const onListening = (listening: boolean) => {
    // Back after a gap: the nudges sent meanwhile are lost, so look now.
    if (listening && !shared.listening) claimNow(shared, sendBack);
    shared.listening = listening;
  };
  // Polling covers us meanwhile, but LISTEN is what makes pickup immediate: keep trying to get it back.
  const connect = () => {
    listenForNudges(d.databaseUrl, onNotify, d.logger, d.applicationName, (l) => !closed && onListening(l))
      .then((h) => (closed ? void h.close() : (handle = h)))
      .catch((err: unknown) => {
        d.logger.warn({ err: coerceError(err).message }, 'LISTEN unavailable; polling only, retrying in 5 s');
        if (!closed) retry = setTimeout(connect, 5000);
      });
  };
  connect();
  return () => {
    closed = true;
    shared.listening = false;
    clearTimeout(retry);
    void handle?.close();
  };
}

/**
 * claim: one round, when one is due (see PollerShared); most rounds of a busy fleet send nothing. A run
 * ending here makes one due too: a run waiting for room may fit now (a claim finding nothing pending is
 * cheap: it stops at the empty candidate list).
 */
async function claimRound(d: PollerDeps, shared: PollerShared): Promise<number> {
  const roomFreed = d.runs.count < shared.runsAfterLastClaim;
  if (!(shared.claimWanted || shared.lastClaimed > 0 || roomFreed || !shared.listening)) return 0;
  shared.claimWanted = false;
  if (shared.lastClaimed > 0) await runsWritesCaughtUp(d);
  // The drain began while this round waited: it claims nothing (the drain would only start and release them).
  if (shared.draining) return (shared.lastClaimed = 0);
  shared.lastClaimed = await claimNewRuns(d);
  shared.runsAfterLastClaim = d.runs.count;
  return shared.lastClaimed;
}

/** Waits (at most a lease TTL) until the runs launched by the last round have written what they queued. */
async function runsWritesCaughtUp(d: PollerDeps): Promise<void> {
  const until = performance.now() + d.leaseTtlS * 1000;
  while (d.runsWritesQueued?.() && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
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
  try {
    await unregisterEngine(d.pool, d.engineId);
  } catch (err) {
    // A run whose release failed still names us (migration 0012): the row stays, its lease runs out, and
    // another engine reclaims the run then, which is all a drain can still do for it.
    if (!isEngineRowStillNamed(err)) throw err;
    d.logger.warn('engine stopped; some runs could not be released: another engine reclaims them when our lease expires');
    return;
  }
  d.logger.info('engine stopped; runs released');
}

/** SQLSTATE 23503 on deleting an engine row: a run that is not finished still names it (migration 0012). */
function isEngineRowStillNamed(err: unknown): boolean {
  return (err as { code?: string }).code === '23503';
}
