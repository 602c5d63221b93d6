import type { Pool } from 'pg';
import { silentLogger, type Logger } from '../log.js';
import { redactText } from '../redact.js';
import { updateRunCounters } from '../io/db/sql/updateRunCounters.js';

export { updateRunCounters, type RunCountersWrite } from '../io/db/sql/updateRunCounters.js';

export interface CountersWriterOptions {
  pool: Pool;
  runId: string;
  engineId: string;
  leaseEpoch: string;
  /** At most one write per interval (default 1000 ms); unchanged counters are not rewritten. */
  intervalMs?: number;
  logger?: Logger;
  /** The fenced write matched no row: the run is no longer ours. Called once; the writer stops. */
  onFenced?: () => void;
}

export interface CountersWriter {
  /** The latest counters; cheap, call it on every frame if convenient. */
  set(counters: Record<string, unknown>): void;
  /** Writes the latest now if it changed; false once fenced. */
  flush(): Promise<boolean>;
  /** A last flush, then no more writes. */
  close(): Promise<void>;
}

/**
 * Throttles a run's counters to the database: the rules produce them per frame, the API needs them about
 * once a second. One write at a time; a failed write (database down) is simply retried at the next tick
 * with the then-latest value, since only the current counters matter.
 */
export function createCountersWriter(opts: CountersWriterOptions): CountersWriter {
  const log = (opts.logger ?? silentLogger).child({ component: 'counters', run_id: opts.runId });
  let latest: string | undefined;
  let written: string | undefined;
  let writing: Promise<boolean> | undefined;
  let fenced = false;
  let closed = false;

  async function write(): Promise<boolean> {
    if (fenced) return false;
    if (latest === undefined || latest === written) return true;
    const value = latest;
    try {
      const ok = await updateRunCounters(opts.pool, {
        runId: opts.runId,
        engineId: opts.engineId,
        leaseEpoch: opts.leaseEpoch,
        counters: JSON.parse(value) as Record<string, unknown>,
      });
      if (!ok) {
        fenced = true;
        clearInterval(timer);
        log.warn('counters write fenced: the run is no longer owned by this engine');
        opts.onFenced?.();
        return false;
      }
      written = value;
    } catch (err) {
      log.warn({ err: redactText((err as Error).message) }, 'counters write failed; retrying at the next tick');
    }
    return true;
  }

  function flush(): Promise<boolean> {
    writing ??= write().finally(() => (writing = undefined));
    return writing;
  }

  const timer = setInterval(() => void flush(), opts.intervalMs ?? 1000);
  timer.unref();

  return {
    set(counters) {
      if (closed || fenced) return;
      // Serialised now: the caller may mutate its object after this call.
      latest = JSON.stringify(counters);
    },
    flush,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await writing;
      await flush();
    },
  };
}
