import type { Pool } from 'pg';
import { silentLogger, type Logger } from '../log.js';
import { redactText } from '../redact.js';
import { deleteOldEvents } from '../io/db/sql/deleteOldEvents.js';

export const DEFAULT_EVENT_RETENTION_HOURS = 24;

/** SIE_EVENT_RETENTION_HOURS (a positive number, fractions allowed), default 24. A bad value throws: loud at start. */
export function eventRetentionHours(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SIE_EVENT_RETENTION_HOURS?.trim();
  if (!raw) return DEFAULT_EVENT_RETENTION_HOURS;
  const h = Number(raw);
  if (!Number.isFinite(h) || h <= 0) throw new Error(`SIE_EVENT_RETENTION_HOURS: expected a positive number of hours, got "${raw}"`);
  return h;
}

/**
 * Deletes events created more than `olderThanHours` ago, delivered or not (retention bounds the outbox
 * too: a receiver down for longer than that loses the oldest). In batches of `batchSize` (default 5000),
 * each its own statement, so live inserts and deliveries never wait long. Returns how many went.
 */
export async function pruneEvents(pool: Pool, olderThanHours: number, opts: { batchSize?: number } = {}): Promise<number> {
  const limit = opts.batchSize ?? 5000;
  let total = 0;
  for (;;) {
    const n = await deleteOldEvents(pool, { olderThanS: olderThanHours * 3600, limit });
    total += n;
    if (n < limit) return total;
  }
}

export interface EventPrunerOptions {
  pool: Pool;
  /** Default eventRetentionHours() (SIE_EVENT_RETENTION_HOURS or 24). */
  retentionHours?: number;
  /** Between rounds (default 5 min). */
  intervalMs?: number;
  /** Before the first round (default random up to 30 s: engines started together do not prune together). */
  initialDelayMs?: number;
  logger?: Logger;
}

export interface EventPruner {
  start(): void;
  stop(): Promise<void>;
  /** One round now (tests, `sie db` tooling). */
  runOnce(): Promise<number>;
}

/** Runs pruneEvents every few minutes. Every engine may run one: concurrent rounds SKIP each other's rows. */
export function createEventPruner(opts: EventPrunerOptions): EventPruner {
  const hours = opts.retentionHours ?? eventRetentionHours();
  const intervalMs = opts.intervalMs ?? 5 * 60_000;
  const log = (opts.logger ?? silentLogger).child({ component: 'event-pruner' });
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<unknown> | undefined;
  let stopped = true;

  async function runOnce(): Promise<number> {
    const n = await pruneEvents(opts.pool, hours);
    if (n > 0) log.info({ deleted: n, retention_hours: hours }, 'old events pruned');
    return n;
  }

  function schedule(ms: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      round = runOnce()
        .catch((err: Error) => log.warn({ err: redactText(err.message) }, 'event pruning failed; next round later'))
        .finally(() => schedule(intervalMs));
    }, ms);
    timer.unref(); // housekeeping must not keep a process alive
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      schedule(opts.initialDelayMs ?? Math.random() * 30_000);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await round;
    },
    runOnce,
  };
}
