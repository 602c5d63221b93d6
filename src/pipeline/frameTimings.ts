import type { FrameRecord, FrameTraceContext, StageTiming } from '../frame.js';
import type { RuleEvent } from '../rules/index.js';

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

/** An event a frame emitted, as its trace names it. */
export type FrameEventRef = Pick<RuleEvent, 'id' | 'rule_id' | 'type'>;

/**
 * What the output clock knows of a new frame once it is out: its timing, plus what the frame's trace needs
 * (src/observability/tracing.ts). The frame timings file keeps only the FrameOutputTiming part.
 */
export interface FrameOutput extends FrameOutputTiming {
  /** FrameRecord.ptsS: the frame's time in the source. */
  readonly ptsS: number;
  readonly configVersion: number;
  /** Whether the detector ran on it (FrameRecord.detected). */
  readonly detected: boolean;
  readonly events: readonly FrameEventRef[];
  /** The pts its access unit carries on the output (the output clock's 1/fps grid). */
  readonly outputPtsS: number;
  /** When its access unit came back from ffmpeg #2, just before it went to the mount; a pushed frame's is
   *  handedAtMs (ffmpeg sends it itself, we never see it again). */
  readonly accessUnitAtMs: number;
  /** True when ffmpeg #2 pushes the output itself: sentAtMs and accessUnitAtMs are then the hand-over. */
  readonly pushed: boolean;
}

/** Where frame timings go; called on the pipeline's thread, once per new output frame: must not block. */
export interface FrameTimingSink {
  record(t: FrameOutputTiming): void;
}

/** What is kept of a new frame until it is out (or dropped): no pixels, no record. */
export type FrameOrigin = Pick<FrameOutput, 'runId' | 'frameId' | 'arrivedAtMs' | 'stages' | 'ptsS' | 'configVersion' | 'detected' | 'trace' | 'events'>;

const NO_EVENTS: readonly FrameEventRef[] = [];

export function frameOrigin(frame: FrameRecord): FrameOrigin {
  return {
    runId: frame.runId,
    frameId: frame.frameId,
    arrivedAtMs: frame.arrivedAtMs,
    // A copy of the list: a timing outlives the record and must not change with it.
    stages: [...frame.stages],
    ptsS: frame.ptsS,
    configVersion: frame.config.version,
    detected: frame.detected === true,
    trace: frame.trace,
    events: frame.events?.length ? frame.events.map((e) => ({ id: e.id, rule_id: e.rule_id, type: e.type })) : NO_EVENTS,
  };
}
