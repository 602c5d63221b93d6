import type { Pool } from 'pg';
import { silentLogger, type Logger } from '../log.js';
import { redactText } from '../redact.js';
import { updateRunCounters } from '../io/db/sql/updateRunCounters.js';

export { updateRunCounters, type RunCountersWrite } from '../io/db/sql/updateRunCounters.js';

export interface CountersBatchOptions {
  pool: Pool;
  engineId: string;
  /** One write per interval for all of the engine's runs (default 1000 ms); unchanged counters are not rewritten. */
  intervalMs?: number;
  logger?: Logger;
}

interface Entry {
  leaseEpoch: string;
  latest: string | undefined;
  written: string | undefined;
  onFenced: (() => void) | undefined;
}

/**
 * An engine's runs' counters to the database, one statement a tick for all of them: the rules produce
 * counters per frame, the API needs them about once a second, and at 200 engines one statement per run a
 * second was PostgreSQL's largest cost. One write at a time; a failed write (database down) is simply
 * retried at the next tick with the then-latest values, since only the current counters matter.
 */
export class CountersBatch {
  private readonly entries = new Map<string, Entry>();
  /** Runs' counters written so far (one per run and statement). */
  written = 0;
  private writing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly log: Logger;

  constructor(private readonly o: CountersBatchOptions) {
    this.log = (o.logger ?? silentLogger).child({ component: 'counters' });
    // A tick while a write is in flight (the database slow or away) is skipped, not queued behind it: the
    // next tick writes the then-latest values anyway.
    this.timer = setInterval(() => {
      if (!this.writing) void this.flush();
    }, o.intervalMs ?? 1000);
    this.timer.unref();
  }

  /** A run's writer: its latest counters go out with the next tick's statement. */
  writer(runId: string, leaseEpoch: string, onFenced?: () => void): CountersWriter {
    const entry: Entry = { leaseEpoch, latest: undefined, written: undefined, onFenced };
    this.entries.set(runId, entry);
    let closed = false;
    const fenced = () => this.entries.get(runId) !== entry;
    return {
      set: (counters) => {
        // Serialised now: the caller may mutate its object after this call.
        if (!closed && !fenced()) entry.latest = JSON.stringify(counters);
      },
      flush: async () => {
        await this.flush();
        return !fenced();
      },
      close: async () => {
        if (closed) return;
        closed = true;
        await this.flush();
        if (!fenced()) this.entries.delete(runId);
      },
      discard: () => {
        closed = true;
        if (!fenced()) this.entries.delete(runId);
      },
    };
  }

  /** Writes every run's latest counters that changed, now (after a write in flight). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    this.writing = this.write().finally(() => (this.writing = undefined));
    await this.writing;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async write(): Promise<void> {
    const due = [...this.entries].filter(([, e]) => e.latest !== undefined && e.latest !== e.written);
    if (due.length === 0) return;
    const values = due.map(([runId, e]) => ({ runId, entry: e, value: e.latest! }));
    try {
      const written = await updateRunCounters(
        this.o.pool,
        this.o.engineId,
        values.map((v) => ({ runId: v.runId, leaseEpoch: v.entry.leaseEpoch, countersJson: v.value })),
      );
      for (const v of values) {
        if (written.has(v.runId)) {
          v.entry.written = v.value;
          this.written++;
        }
        else if (this.entries.get(v.runId) === v.entry) {
          this.entries.delete(v.runId);
          this.log.warn({ run_id: v.runId }, 'counters write fenced: the run is no longer owned by this engine');
          v.entry.onFenced?.();
        }
      }
    } catch (err) {
      this.log.warn({ err: redactText((err as Error).message), runs: values.length }, 'counters write failed; retrying at the next tick');
    }
  }
}

export interface CountersWriter {
  /** The latest counters; cheap, call it on every frame if convenient. */
  set(counters: Record<string, unknown>): void;
  /** Writes the latest now if it changed; false once fenced. */
  flush(): Promise<boolean>;
  /** A last flush, then no more writes. */
  close(): Promise<void>;
  /** No more writes, and the latest counters are not written (the run is ending or no longer ours). */
  discard(): void;
}
