import type { PollerRuns } from '../actors/poller.js';

/**
 * What the engine does with the runs it claimed: run them (RunSupervisor: ffmpeg, the model, the RTSP
 * mount) or only hold them (DryRuns, `sie engine --dry`). The poller drives either the same way.
 */
export interface EngineRuns extends PollerRuns {
  /** Runs claimed (launched) since the engine started. */
  readonly claims: number;
  /** Runs still loading their model. */
  loading(): number;
  /** Writes every run's counters and flow (once a second). */
  publishCounters(): void;
  /** One `run stats` log line per run. */
  logStats(): void;
  /** The engine has stopped: no timer of its runs' may outlive it. */
  close(): void;
}
