import type { FrameRecord, FrameTraceContext, StageTiming } from '../frame.js';

/**
 * One output frame's way from its arrival to its RTSP packets, for `--frame-timings` (read by `sie bench`).
 * Every time is epoch ms from preciseNowMs (src/clock.ts), the clock of FrameRecord.arrivedAtMs and of the
 * stage timings, so differences between any two of them are exact.
 */
export interface FrameOutputTiming {
  readonly runId: string;
  readonly frameId: number;
  /** FrameRecord.arrivedAtMs: its bytes complete on our side of ffmpeg #1's pipe. */
  readonly arrivedAtMs: number;
  /** FrameRecord.stages as they were when the output clock took the frame (inference, rules, drawing). */
  readonly stages: readonly StageTiming[];
  /** When ffmpeg #2 took the frame's pixels (tryWrite succeeded); for a frame that waited for a busy
   *  encoder, the moment it was finally taken. */
  readonly handedAtMs: number;
  /** Just after its access unit went to the mount (sink.writeAccessUnit: the RTP packets to every reader). */
  readonly sentAtMs: number;
  /** FrameRecord.trace when the frame has one (the metrics' histogram exemplars carry its trace id). */
  readonly trace?: FrameTraceContext;
}

/** Where frame timings go; called on the pipeline's thread, once per new output frame: must not block. */
export interface FrameTimingSink {
  record(t: FrameOutputTiming): void;
}

/** What the output clock keeps of a new frame until ffmpeg #2 has taken it: no pixels, no record. */
export type FrameOrigin = Pick<FrameOutputTiming, 'runId' | 'frameId' | 'arrivedAtMs' | 'stages' | 'trace'>;

export function frameOrigin(frame: FrameRecord): FrameOrigin {
  // A copy of the list: a timing outlives the record and must not change with it.
  return { runId: frame.runId, frameId: frame.frameId, arrivedAtMs: frame.arrivedAtMs, stages: [...frame.stages], trace: frame.trace };
}
