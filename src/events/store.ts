/**
 * src/events: events after the rules. Written to PostgreSQL first (this store), then delivered at least
 * once from the table by independent loops (webhook.ts, mqtt.ts), pruned after the retention (prune.ts);
 * plus the runs' live counters (counters.ts). Each module is imported directly: there is no barrel.
 */
import type { Pool } from 'pg';
import { silentLogger, type Logger } from '../log.js';
import { redactText } from '../redact.js';
import type { RuleEvent } from '../rules/index.js';
import { insertEvents } from '../io/db/sql/insertEvents.js';
import { rateLimited, withTimeout } from './waker.js';

export interface EventStoreOptions {
  /** A partial batch waits at most this long (default 200 ms): one INSERT per tick, not per event. */
  flushIntervalMs?: number;
  /** This many buffered events are written at once (default 100). */
  flushAt?: number;
  /** Rows per INSERT at most (default 1000). */
  maxBatch?: number;
  /** Events held while the database is unreachable (default 10 000); beyond, the oldest are dropped. */
  maxBuffered?: number;
  /** Retry delays after a failed write: doubling from retryInitialMs (200) to retryMaxMs (5000). */
  retryInitialMs?: number;
  retryMaxMs?: number;
}

export interface EventStoreStats {
  /** Handed to append(). */
  appended: number;
  /** New rows written. */
  written: number;
  /** Ids already in the table (a replay, or a retried batch whose COMMIT had gone through): skipped. */
  duplicates: number;
  /** Lost: the buffer overflowed while the database was down, or append() after close(). */
  dropped: number;
  /** Refused by the database one by one (e.g. their run was deleted): logged with their ids. */
  rejected: number;
  /** Failed write attempts (each retried). */
  failures: number;
  /** Waiting to be written now. */
  buffered: number;
}

export interface EventStore {
  /** Never blocks and never throws: the video pipeline calls it on the frame path. */
  append(events: readonly RuleEvent[]): void;
  /** Writes everything buffered now; rejects when the database refuses (the events stay buffered). */
  flush(): Promise<void>;
  /** Flushes what it can within timeoutMs (default 5 s); what remains is counted as dropped and logged. */
  close(opts?: { timeoutMs?: number }): Promise<void>;
  /** Called after each write that added rows (the deliverers' nudge). Returns the unsubscribe. */
  onFlushed(listener: (written: number) => void): () => void;
  readonly stats: Readonly<EventStoreStats>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Constraint and data errors (SQLSTATE classes 22, 23): the row itself is bad; retrying cannot help. */
function isRowError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/**
 * The engine's events sink: PostgreSQL first (LESSONS: a sink that is down must lose nothing), written in
 * batches off the frame path. Every other sink reads the table. One write is in flight at a time; while it
 * runs, new events gather for the next batch, so a slow database makes batches bigger, not the video slower.
 */
export function createEventStore(pool: Pool, logger: Logger = silentLogger, opts: EventStoreOptions = {}): EventStore {
  const flushIntervalMs = opts.flushIntervalMs ?? 200;
  const flushAt = opts.flushAt ?? 100;
  const maxBatch = opts.maxBatch ?? 1000;
  const maxBuffered = opts.maxBuffered ?? 10_000;
  const retryInitialMs = opts.retryInitialMs ?? 200;
  const retryMaxMs = opts.retryMaxMs ?? 5000;
  const log = logger.child({ component: 'event-store' });
  const logFailure = rateLimited(10_000);
  const logDrop = rateLimited(10_000);

  const s: EventStoreStats = { appended: 0, written: 0, duplicates: 0, dropped: 0, rejected: 0, failures: 0, buffered: 0 };
  const buf: RuleEvent[] = [];
  let inflight = 0;
  const listeners = new Set<(n: number) => void>();
  let timer: NodeJS.Timeout | undefined;
  let loop: Promise<void> | undefined;
  let lastError: unknown;
  let retryMs = 0;
  let backoffUntil = 0;
  let closed = false;
  let droppedSinceLog = 0;

  function drop(n: number, why: string): void {
    s.dropped += n;
    droppedSinceLog += n;
    logDrop((suppressed) => {
      log.error({ dropped: droppedSinceLog, total: s.dropped, buffered: buf.length, suppressed }, `events dropped: ${why}`);
      droppedSinceLog = 0;
    });
  }

  /** Drop-oldest, as the frame queues do: the newest events matter most to whoever watches live. */
  function trim(): void {
    const over = buf.length - maxBuffered;
    if (over > 0) {
      buf.splice(0, over);
      drop(over, 'the database is unreachable and the buffer is full');
    }
  }

  function setTimer(ms: number): void {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      void startLoop();
    }, ms);
    // A store that nobody closed must not keep the process alive; close() writes what is left.
    timer.unref();
  }

  function startLoop(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    loop ??= drain().finally(() => (loop = undefined));
    return loop;
  }

  /** Writes one batch; returns the rows that were new and the rows the database refused. */
  async function writeBatch(batch: RuleEvent[]): Promise<{ added: number; rejected: number }> {
    try {
      return { added: await insertEvents(pool, batch), rejected: 0 };
    } catch (err) {
      if (!isRowError(err)) throw err;
    }
    // One bad row (e.g. its run was deleted meanwhile) must not block the others forever: find it by
    // writing one at a time. A connection error here retries the whole batch; ON CONFLICT makes that safe.
    let added = 0;
    let rejected = 0;
    for (const e of batch) {
      try {
        added += await insertEvents(pool, [e]);
      } catch (err) {
        if (!isRowError(err)) throw err;
        rejected++;
        log.error({ event_id: e.id, run_id: e.run_id, err: redactText((err as Error).message) }, 'event refused by the database');
      }
    }
    return { added, rejected };
  }

  async function drain(): Promise<void> {
    while (buf.length > 0) {
      const batch = buf.splice(0, maxBatch);
      inflight = batch.length;
      try {
        const { added, rejected } = await writeBatch(batch);
        s.written += added;
        s.rejected += rejected;
        s.duplicates += batch.length - added - rejected;
        if (added > 0) for (const l of listeners) l(added);
        lastError = undefined;
        retryMs = 0;
      } catch (err) {
        // Back at the front, in order; the retry timer (not the next append) decides when to try again.
        buf.unshift(...batch);
        trim();
        s.failures++;
        lastError = err;
        retryMs = Math.min(retryMaxMs, Math.max(retryInitialMs, retryMs * 2));
        backoffUntil = Date.now() + retryMs;
        logFailure((suppressed) =>
          log.warn({ err: redactText((err as Error).message), buffered: buf.length, retry_ms: retryMs, suppressed }, 'event write failed; retrying'),
        );
        setTimer(retryMs);
        return;
      } finally {
        inflight = 0;
      }
    }
  }

  async function flush(): Promise<void> {
    if (loop) await loop;
    if (buf.length === 0) return;
    await startLoop();
    if (buf.length > 0 && lastError !== undefined) throw lastError;
  }

  return {
    append(events) {
      if (events.length === 0) return;
      if (closed) {
        drop(events.length, 'append after close');
        return;
      }
      for (const e of events) buf.push(e);
      s.appended += events.length;
      trim();
      if (loop) return; // the running write takes them next
      if (buf.length >= flushAt && Date.now() >= backoffUntil) void startLoop();
      else setTimer(Math.max(flushIntervalMs, backoffUntil - Date.now()));
    },
    flush,
    async close({ timeoutMs = 5000 } = {}) {
      if (closed) return;
      // From here on nothing re-arms the timer: this loop drives the last retries itself.
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      const deadline = Date.now() + timeoutMs;
      while (buf.length + inflight > 0 && Date.now() < deadline) {
        try {
          await withTimeout(flush(), Math.max(1, deadline - Date.now()), 'event store close timed out');
        } catch {
          await sleep(Math.min(Math.max(retryMs, retryInitialMs), Math.max(0, deadline - Date.now())));
        }
      }
      // A write still hanging may yet land; it is counted as lost, the safe side for an operator.
      const left = buf.length + inflight;
      if (left > 0) drop(left, `not written within ${timeoutMs} ms of close`);
      buf.length = 0;
      listeners.clear();
    },
    onFlushed(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    get stats() {
      return { ...s, buffered: buf.length + inflight };
    },
  };
}
