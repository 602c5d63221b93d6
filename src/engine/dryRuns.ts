/**
 * `sie engine --dry`: the engine's runs simulated. The poller, lease, claims (with their cost units),
 * fencing, stop requests and drain are the real ones; a claimed run only holds its place: it is written
 * `connecting` then `running` (fenced, as a real run's transitions are), then writes its counters every
 * `writeEveryS` (fenced, as a real run's rule counters are when they change: `{"dry": {"engine", "writes"}}`,
 * so an audit can tell who wrote last) and ends when asked. No ffmpeg, no model, no RTSP mount: hundreds
 * of engines fit on one machine to test the control plane at scale (issue 18 item 5).
 */
import type { Pool } from 'pg';
import type { ClaimedRun } from '../io/db/sql/claimRuns.js';
import { writeTransitionRetrying } from './transitionWrite.js';
import { CountersBatch, type CountersWriter } from '../events/counters.js';
import { releaseRun } from '../io/db/sql/releaseEngineRuns.js';
import { coerceError } from '../errors.js';
import type { Logger } from '../log.js';
import type { EngineRuns } from './engineRuns.js';

interface DryRun {
  row: ClaimedRun;
  /** Transitions are written one after the other, as a real run's are. */
  chain: Promise<void>;
  /** False once released, stopped or fenced out: nothing more is written for it. */
  live: boolean;
  /** Its counters changes so far, the timer of the next, and the engine's batch writer that writes them. */
  writes: number;
  timer: NodeJS.Timeout | undefined;
  counters: CountersWriter;
  /** The engine's logger with the run's id, made once: a child per write cost more than the write at 10,000 runs. */
  log: Logger;
}

/** What a dry engine did, for its last line and the scale harness. */
export interface DryRunsSummary {
  claims: number;
  held: number;
  /** Fenced writes (transitions and counters) that were accepted. */
  writes: number;
  /** Writes refused because another engine holds the run now. */
  fencedWrites: number;
}

export class DryRuns implements EngineRuns {
  private readonly runs = new Map<string, DryRun>();
  private launched = 0;
  private accepted = 0;
  /** Writes refused because another engine holds the run now (fenced out); for tests and the harness. */
  fencedWrites = 0;
  /** The counters go out as a real engine's do: one statement a second for all runs. */
  private readonly counters: CountersBatch;

  constructor(private readonly d: { pool: Pool; engineId: string; logger: Logger; writeEveryS: number }) {
    this.counters = new CountersBatch({ pool: d.pool, engineId: d.engineId, logger: d.logger });
  }

  summary(): DryRunsSummary {
    return { claims: this.launched, held: this.runs.size, writes: this.accepted + this.counters.written, fencedWrites: this.fencedWrites };
  }

  get claims(): number {
    return this.launched;
  }

  get count(): number {
    return this.runs.size;
  }

  loading(): number {
    return 0;
  }

  has(runId: string): boolean {
    return this.runs.has(runId);
  }

  launch(row: ClaimedRun): void {
    this.launched++;
    const run: DryRun = {
      row,
      chain: Promise.resolve(),
      live: true,
      writes: 0,
      timer: undefined,
      counters: this.counters.writer(row.id, row.lease_epoch, () => this.fencedOut(run, 'counters')),
      log: this.d.logger.child({ runId: row.id }),
    };
    this.runs.set(row.id, run);
    this.write(run, 'connecting', 'dry run: no source opened');
    this.write(run, 'running', 'dry run: holding its cost');
    if (this.d.writeEveryS > 0) this.scheduleCounters(run, Math.random() * this.d.writeEveryS * 1000);
  }

  /** The next counters change in `ms` (the first at a random phase, so an engine's runs do not change together). */
  private scheduleCounters(run: DryRun, ms: number): void {
    run.timer = setTimeout(() => {
      if (!run.live) return;
      run.writes++;
      run.counters.set({ dry: { engine: this.d.engineId, writes: run.writes } });
      this.scheduleCounters(run, this.d.writeEveryS * 1000);
    }, ms);
  }

  private end(run: DryRun): void {
    run.live = false;
    this.quiet(run);
  }

  /** No more counters: the run is ending (its last transition clears the owner, after which they are fenced). */
  private quiet(run: DryRun): void {
    clearTimeout(run.timer);
    run.counters.discard();
  }

  private fencedOut(run: DryRun, what: string): void {
    this.fencedWrites++;
    this.end(run);
    this.runs.delete(run.row.id);
    this.d.logger.warn({ runId: run.row.id, write: what }, 'dry run: write fenced out (another engine holds the run)');
  }

  stop(runId: string, reason = 'stop requested'): void {
    const run = this.runs.get(runId);
    if (!run) return;
    this.quiet(run);
    this.write(run, 'stopping', reason);
    this.write(run, 'stopped', null, () => {
      this.end(run);
      this.runs.delete(runId);
    });
  }

  async applyConfigChange(): Promise<void> {
    // A dry run has no stages to reconfigure.
  }

  publishCounters(): void {}

  close(): void {
    this.counters.close();
  }

  logStats(): void {
    this.d.logger.info(this.summary(), 'dry runs');
  }

  async releaseAll(): Promise<void> {
    const all = [...this.runs.values()];
    this.d.logger.info({ runs: all.length }, `draining: releasing ${all.length} dry run(s) to pending`);
    await Promise.all(
      all.map(async (run) => {
        this.end(run);
        await run.chain;
        try {
          await releaseRun(this.d.pool, { runId: run.row.id, engineId: this.d.engineId, leaseEpoch: run.row.lease_epoch });
        } catch (err) {
          this.d.logger.error({ runId: run.row.id, err: coerceError(err).message }, 'release failed');
        }
        this.runs.delete(run.row.id);
      }),
    );
  }

  async abandonAll(): Promise<void> {
    for (const run of this.runs.values()) this.end(run);
    await Promise.all([...this.runs.values()].map((r) => r.chain));
    this.runs.clear();
  }

  /** One fenced transition after the previous one; refused (another engine owns the run): the run is dropped. */
  private write(run: DryRun, to: string, reason: string | null, after?: () => void): void {
    run.chain = run.chain.then(async () => {
      if (!run.live) return;
      try {
        // Retried as a real run's are: a burst can queue writes past the pool's wait.
        const t = { runId: run.row.id, engineId: this.d.engineId, leaseEpoch: run.row.lease_epoch, to, reason, error: null, attempts: 0 };
        const ok = await writeTransitionRetrying(this.d.pool, t, () => run.live, run.log);
        if (ok === undefined) return;
        if (!ok) return this.fencedOut(run, to);
        this.accepted++;
        after?.();
      } catch (err) {
        this.d.logger.warn({ runId: run.row.id, to, err: coerceError(err).message }, 'dry run: transition not written');
      }
    });
  }
}
