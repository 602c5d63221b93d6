import type { ConfigBody } from './config/index.js';
import type { Detections } from './detections.js';
import type { RuleEvent } from './rules/events.js';
import type { RuleCounters } from './rules/types.js';

/** Raw picture layout that travels between the two ffmpeg processes: planar YUV 4:2:0 (yuv420p).
 *  Half the bytes of BGR and no colour conversion on either side of the pipeline. */
export interface FrameGeometry {
  readonly width: number;
  readonly height: number;
}

export function yuv420pSize(g: FrameGeometry): number {
  const chroma = Math.ceil(g.width / 2) * Math.ceil(g.height / 2);
  return g.width * g.height + 2 * chroma;
}

/** Milliseconds each stage spent on this frame (only the stages it went through). */
export interface StageTimes {
  decodeWaitMs?: number;
  inferenceMs?: number;
  rulesMs?: number;
  drawMs?: number;
  encodeQueueMs?: number;
}

/**
 * The one per-frame record that flows decoder → inference → rules → drawing → publisher.
 * Stages add fields; none rewrites what an earlier stage set (pixels are annotated in place by drawing).
 */
export interface FrameRecord {
  readonly runId: string;
  /** Per-run sequence number, from 0, never reused across reconnects. */
  readonly frameId: number;
  /** Presentation time in the source, seconds (from ffmpeg's decoded timestamps). A reconnect restarts the
   *  source's clock, so later connections are shifted to continue after the last frame plus the outage:
   *  within a run, pts never goes backwards and rule timers stay meaningful. */
  readonly ptsS: number;
  /** Wall clock when the frame's bytes were complete on our side (ms since epoch). */
  readonly arrivedAtMs: number;
  readonly width: number;
  readonly height: number;
  /** yuv420p pixels, width*height luma then the two chroma planes. */
  readonly pixels: Buffer;
  /** Set by inference (raw), replaced by rules (filtered, tracked). Undefined on frames the detector skipped. */
  detections?: Detections;
  /** Events the rules emitted on this frame. */
  events?: RuleEvent[];
  /** Track ids that triggered a rule on this frame (drawn highlighted). */
  triggered?: ReadonlySet<number>;
  /** Rule counters after this frame (drawn on zones and lines). */
  counters?: Record<string, RuleCounters>;
  /** The config version the rules applied to this frame, set by the rules stage: drawing draws with it, so a
   *  reconfigure never draws new zones and lines over counters the old rules produced. */
  config?: { readonly version: number; readonly body: ConfigBody };
  times: StageTimes;
}
