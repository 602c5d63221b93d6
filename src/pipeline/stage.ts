import { preciseNowMs } from '../clock.js';
import type { AppliedConfig, FrameRecord, StageName } from '../frame.js';

/**
 * One step of the per-frame work (inference, rules, drawing). A stage owns its per-run state (the
 * detector, the rules' history, the scene renderer); it adds to the frame and never keeps it.
 * Live runs and `sie replay` drive the same stages, through `createStageRunner`: what differs between
 * them is only the source, the queues between stages and the output.
 */
export interface Stage {
  readonly name: StageName;
  /** Frames it may work on at once (default 1). More only for a stage whose process() reads and changes
   *  its state before its first await, so that frames started in order are handled in order. Replay keeps
   *  that many in the stage; a live run's stage actor starts a further one only while `hasRoom()` says so. */
  readonly concurrency?: number;
  /** Live runs: whether a frame started now, beside those in the stage, would be worked on at once (an idle
   *  inference worker) rather than wait behind other runs' frames, where it would only grow old. */
  hasRoom?(): boolean;
  /** Called before the first frame of each config version (the run's first config included), with that
   *  frame's config: the stage rebuilds what depends on it. */
  reconfigure(config: AppliedConfig, frame: FrameRecord): Promise<void> | void;
  process(frame: FrameRecord): Promise<void> | void;
  /** The run has ended: release what the stage holds, hand out what it still owes (the rules' closing events). */
  close(): void;
}

/** Runs frames through one stage: reconfigures it when a frame brings a new config version, and appends
 *  the stage's wait and service time to the frame. One runner per stage and run; frames are started in
 *  order (up to the stage's concurrency at once), and a reconfigure is awaited by every later frame. */
export function createStageRunner(stage: Stage): (frame: FrameRecord) => Promise<void> {
  let version: number | undefined;
  let reconfigured: Promise<void> = Promise.resolve();
  return async (frame) => {
    const startedAtMs = preciseNowMs();
    if (frame.config.version !== version) {
      version = frame.config.version;
      const config = frame.config;
      reconfigured = reconfigured.then(() => stage.reconfigure(config, frame));
    }
    await reconfigured;
    await stage.process(frame);
    const previous = frame.stages.at(-1);
    const readySince = previous ? previous.startedAtMs + previous.serviceMs : frame.arrivedAtMs;
    frame.stages.push({
      stage: stage.name,
      waitMs: Math.max(0, startedAtMs - readySince),
      serviceMs: preciseNowMs() - startedAtMs,
      startedAtMs,
    });
  };
}
