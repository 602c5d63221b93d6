import type { Pool } from 'pg';
import { webhookConfigSchema, type WebhookConfig } from '../config/webhook.js';
import { silentLogger, type Logger } from '../log.js';
import { redactText } from '../redact.js';
import type { EventRow } from '../io/db/sql/eventRow.js';
import { claimWebhookEvents } from '../io/db/sql/claimWebhookEvents.js';
import { getRunWebhook } from '../io/db/sql/getRunWebhook.js';
import { markWebhookDelivered } from '../io/db/sql/markWebhookDelivered.js';
import { retryWebhookEvents } from '../io/db/sql/retryWebhookEvents.js';
import { skipWebhookEvents } from '../io/db/sql/skipWebhookEvents.js';
import { storedEventFromRow } from './view.js';
import { createWaker, rateLimited } from './waker.js';

/** Where one run's events go: its config's `webhook` section. */
export type WebhookTarget = Pick<WebhookConfig, 'url' | 'headers' | 'timeout_s'>;
/** undefined: the run has no webhook (its events are marked as nothing to send). Throwing: retry later. */
export type ResolveWebhook = (runId: string) => WebhookTarget | undefined | Promise<WebhookTarget | undefined>;

/**
 * Reads a run's webhook from the config version it executes, cached for ttlMs (default 5 s) so a batch of
 * one run's events costs one query, while a new config version still takes effect within seconds.
 */
export function createConfigWebhookResolver(pool: Pool, opts: { ttlMs?: number; logger?: Logger } = {}): ResolveWebhook {
  const ttlMs = opts.ttlMs ?? 5000;
  const log = opts.logger ?? silentLogger;
  const cache = new Map<string, { at: number; target: WebhookTarget | undefined }>();
  return async (runId) => {
    const hit = cache.get(runId);
    if (hit && Date.now() - hit.at < ttlMs) return hit.target;
    const row = await getRunWebhook(pool, runId);
    let target: WebhookTarget | undefined;
    if (row && row.webhook !== null && row.webhook !== undefined) {
      const parsed = webhookConfigSchema.safeParse(row.webhook);
      if (parsed.success) target = parsed.data;
      else log.warn({ run_id: runId }, 'webhook section of the run config is invalid; events not sent');
    }
    // Bounded: an engine runs tens of runs; a stale entry only costs one re-read.
    if (cache.size > 10_000) cache.clear();
    cache.set(runId, { at: Date.now(), target });
    return target;
  };
}

/** An event due but held by another engine's claim (or a failed read) is looked at again this soon. */
const RETRY_MS = 1000;

export interface WebhookDelivererOptions {
  pool: Pool;
  logger?: Logger;
  /** Default: createConfigWebhookResolver(pool). */
  resolveWebhook?: ResolveWebhook;
  /** Requests in flight at most (default 8): a receiver that never answers holds slots, not the loop. */
  concurrency?: number;
  /**
   * The longest the loop sleeps with nothing due (default 10 s). Events of this process's runs wake it at
   * once (nudge()), and it wakes when the next retry or another engine's claim lease falls due (read from
   * the table); this backstop finds what nobody nudged for, such as the events of an engine that died
   * before sending them. At 200 engines a poll a second each was the busiest statement of the fleet.
   */
  pollMs?: number;
  /** Backoff per event after a failure: initial·2^(attempts−1), at most max (defaults 1 s, 300 s). */
  backoffInitialS?: number;
  backoffMaxS?: number;
  /** How long a claimed event is ours before another engine may send it (default 90 s > the 60 s max timeout). */
  leaseS?: number;
}

export interface WebhookStats {
  delivered: number;
  failed: number;
  skipped: number;
  inflight: number;
}

export interface Deliverer<S> {
  start(): void;
  /** Ends the loop; in-flight requests are aborted and their events handed back for the next start. */
  stop(): Promise<void>;
  /** New events are in the table (EventStore.onFlushed): look now rather than at the next poll. */
  nudge(): void;
  readonly stats: Readonly<S>;
}

/** fetch refuses URLs with credentials: they become a Basic Authorization header (unless one is set). */
function requestOf(target: WebhookTarget, row: EventRow): { url: string; headers: Record<string, string> } {
  const u = new URL(target.url);
  const headers: Record<string, string> = { ...target.headers };
  if (u.username || u.password) {
    const has = Object.keys(headers).some((k) => k.toLowerCase() === 'authorization');
    const basic = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
    if (!has) headers.authorization = `Basic ${basic}`;
    u.username = '';
    u.password = '';
  }
  headers['content-type'] = 'application/json';
  headers['idempotency-key'] = row.id;
  headers['user-agent'] = 'sie-webhook/1';
  return { url: u.toString(), headers };
}

/**
 * Webhook delivery from the events table (an outbox): one event per POST, its JSON the StoredEvent (the
 * RuleEvent + seq) and `Idempotency-Key: <event id>`; any 2xx is delivered, anything else (or no answer
 * within the config's timeout_s) is retried with exponential backoff per event, until retention prunes
 * it. One request per event keeps a retry exact: a receiver never gets an event twice because a
 * neighbour in its batch failed. Order is by due time, so after a retry it is not guaranteed.
 */
export function createWebhookDeliverer(opts: WebhookDelivererOptions): Deliverer<WebhookStats> {
  const { pool } = opts;
  const log = (opts.logger ?? silentLogger).child({ component: 'webhook' });
  const resolve = opts.resolveWebhook ?? createConfigWebhookResolver(pool, { logger: log });
  const concurrency = opts.concurrency ?? 8;
  const pollMs = opts.pollMs ?? 10_000;
  const backoff = { initialS: opts.backoffInitialS ?? 1, maxS: opts.backoffMaxS ?? 300 };
  const leaseS = opts.leaseS ?? 90;
  const waker = createWaker();
  const logDbError = rateLimited(10_000);
  const stats: WebhookStats = { delivered: 0, failed: 0, skipped: 0, inflight: 0 };
  const inflight = new Set<Promise<void>>();
  /** Receivers currently failing (by redacted URL): warn on the first failure and on recovery only. */
  const failing = new Set<string>();
  let abort = new AbortController();
  let loop: Promise<void> | undefined;
  let stopped = true;

  async function settle(what: 'delivered' | 'retry' | 'handback' | 'skip', seq: string): Promise<void> {
    try {
      if (what === 'delivered') await markWebhookDelivered(pool, [seq]);
      else if (what === 'skip') await skipWebhookEvents(pool, [seq]);
      else await retryWebhookEvents(pool, { seqs: [seq], ...(what === 'handback' ? { initialS: 0, maxS: 0 } : backoff) });
    } catch (err) {
      // The lease expires and the event is tried again: a second delivery, never a lost one.
      logDbError((suppressed) => log.warn({ err: redactText((err as Error).message), suppressed }, 'webhook bookkeeping failed'));
    }
  }

  async function deliver(row: EventRow): Promise<void> {
    let target: WebhookTarget | undefined;
    try {
      target = await resolve(row.run_id);
    } catch (err) {
      log.warn({ run_id: row.run_id, err: redactText((err as Error).message) }, 'cannot read the run webhook; retrying later');
      return settle('retry', row.seq);
    }
    if (!target) {
      await settle('skip', row.seq);
      stats.skipped++;
      return;
    }
    const shown = redactText(target.url);
    let failure: string | undefined;
    try {
      const req = requestOf(target, row);
      const res = await fetch(req.url, {
        method: 'POST',
        headers: req.headers,
        body: JSON.stringify(storedEventFromRow(row)),
        redirect: 'manual', // a redirect would turn the POST into a GET elsewhere: a failure to fix, not follow
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(target.timeout_s * 1000)]),
      });
      await res.body?.cancel().catch(() => undefined);
      if (res.status < 200 || res.status > 299) failure = `HTTP ${res.status}`;
    } catch (err) {
      if (abort.signal.aborted) return settle('handback', row.seq);
      const e = err as Error & { cause?: { message?: string } };
      failure = e.name === 'TimeoutError' ? `no answer within ${target.timeout_s} s` : (e.cause?.message ?? e.message);
    }
    // Counted once the table says so: stats never run ahead of what a reader of the table sees.
    if (failure === undefined) {
      if (failing.delete(shown)) log.info({ url: shown }, 'webhook receiver answers again');
      await settle('delivered', row.seq);
      stats.delivered++;
      return;
    }
    if (!failing.has(shown)) {
      failing.add(shown);
      log.warn({ url: shown, event_id: row.id, error: redactText(failure) }, 'webhook delivery failed; retrying with backoff');
    } else log.debug({ url: shown, event_id: row.id, error: redactText(failure) }, 'webhook delivery failed');
    await settle('retry', row.seq);
    stats.failed++;
  }

  /** Until the next attempt is due (as the claim read it), at most pollMs; RETRY_MS when one is due already (locked by another engine's claim). */
  function idleWaitMs(nextDueS: number | null): number {
    if (nextDueS === null) return pollMs;
    // A few ms past the due time: now() at the next claim must have passed it.
    return Math.min(pollMs, nextDueS <= 0 ? RETRY_MS : nextDueS * 1000 + 5);
  }

  async function run(): Promise<void> {
    while (!stopped) {
      const free = concurrency - inflight.size;
      let claimed = 0;
      let idleMs = Math.min(RETRY_MS, pollMs);
      if (free > 0) {
        try {
          const { rows, nextDueS } = await claimWebhookEvents(pool, { limit: free, leaseS });
          claimed = rows.length;
          idleMs = idleWaitMs(nextDueS);
          for (const row of rows) {
            const p: Promise<void> = deliver(row).finally(() => {
              inflight.delete(p);
              stats.inflight = inflight.size;
              waker.wake(); // a slot is free
            });
            inflight.add(p);
          }
          stats.inflight = inflight.size;
        } catch (err) {
          logDbError((suppressed) => log.warn({ err: redactText((err as Error).message), suppressed }, 'cannot claim webhook events'));
        }
      }
      // A full claim means more may be due: go again at once (waiting only for a slot).
      if (free === 0) await waker.wait(pollMs);
      else if (claimed < free) await waker.wait(idleMs);
    }
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      abort = new AbortController();
      loop = run();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      waker.wake();
      abort.abort();
      await loop;
      await Promise.allSettled([...inflight]);
    },
    nudge: () => waker.wake(),
    get stats() {
      return { ...stats };
    },
  };
}
