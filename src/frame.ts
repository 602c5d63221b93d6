import type { ConfigBody } from './config/body.js';
import type { Detections } from './detections.js';
import type { RuleEvent } from './rules/index.js';
import type { RuleCounters } from './rules/index.js';

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

/** What the source stream turned out to be, as ffmpeg #1 decodes it (read from its stderr, src/io/ffmpeg/streamInfo.ts). */
export interface DecodedStreamInfo {
  /** Codec of the source, e.g. h264, hevc. */
  codec: string;
  /** Size of the raw frames ffmpeg writes to us (after any scaling). */
  width: number;
  height: number;
  /** Frame rate of the source as ffmpeg sees it (fps, else tbr). */
  fps: number;
}

/** The config a frame is processed with: stamped at decode, read by every stage (see FrameRecord.config). */
export interface AppliedConfig {
  /** 0 for the config the run started with, +1 for each reconfigure. */
  readonly version: number;
  readonly body: ConfigBody;
}

/** The processing stages, in the order a frame goes through them. */
export type StageName = 'inference' | 'rules' | 'drawing';

/** What one stage spent on one frame. */
export interface StageTiming {
  readonly stage: StageName;
  /** Waiting in the stage's queue: from the previous stage's end (or the frame's arrival) to this start. */
  readonly waitMs: number;
  /** Working on the frame, including a rebuild for a new config version. */
  readonly serviceMs: number;
  /** When the stage started on the frame (epoch ms, sub-ms precise, see preciseNowMs). */
  readonly startedAtMs: number;
}

/** The frame's trace context, made at decode when tracing is on (src/observability/tracing.ts): the ids its
 *  spans will have once the frame is done, so that an event can name them before they exist. */
export interface FrameTraceContext {
  /** 32 hex digits: the frame's trace. */
  readonly traceId: string;
  /** 16 hex digits: the frame's root span. */
  readonly spanId: string;
  /** Chosen by the 1-in-N head sampling; a frame not chosen may still be kept at its end (see keepFrame). */
  readonly sampled: boolean;
}

/**
 * The one per-frame record that flows decoder → inference → rules → drawing → output.
 * Stages add fields; none rewrites what an earlier stage set, except that rules replace the raw detections
 * with the filtered, tracked ones and drawing annotates the pixels in place.
 */
export interface FrameRecord {
  readonly runId: string;
  /** Per-run sequence number, from 0, never reused across reconnects. */
  readonly frameId: number;
  /** Presentation time in the source, seconds (from ffmpeg's decoded timestamps). A reconnect restarts the
   *  source's clock, so later connections are shifted to continue after the last frame plus the outage:
   *  within a run, pts never goes backwards and rule timers stay meaningful. */
  readonly ptsS: number;
  /** Wall clock when the frame's bytes were complete on our side (epoch ms, sub-ms precise, see preciseNowMs). */
  readonly arrivedAtMs: number;
  readonly width: number;
  readonly height: number;
  /** yuv420p pixels, width*height luma then the two chroma planes. */
  readonly pixels: Buffer;
  /** Set by inference (raw), replaced by rules (filtered, tracked). Undefined on frames the detector skipped. */
  detections?: Detections;
  /** True once the detector ran on this frame (every_nth_frame skips the others; the rules then carry tracks). */
  detected?: boolean;
  /** Events the rules emitted on this frame. */
  events?: RuleEvent[];
  /** Track ids that triggered a rule on this frame (drawn highlighted). */
  triggered?: ReadonlySet<number>;
  /** Rule counters after this frame (drawn on zones and lines). */
  counters?: Record<string, RuleCounters>;
  /** The config this frame is processed with, from decode to output: a reconfigure applies from the next
   *  decoded frame on, so no stage ever mixes two versions on one frame (new zones over old counters). */
  readonly config: AppliedConfig;
  /** One entry per stage the frame went through, appended in order. */
  readonly stages: StageTiming[];
  /** Set at decode when tracing is on; undefined otherwise. */
  trace?: FrameTraceContext;
}
