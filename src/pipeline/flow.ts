import type { DropPoint, RunStats } from './runStore.js';

/**
 * Why frames are (not) coming out of a live run, told apart from signals the run already has (RunStats
 * and the source's last arrival), sampled about once a second:
 *
 * - `stalled`: the source went quiet. The run is `retrying` (or reconnecting after frames had flowed),
 *   or it is running but no frame has arrived for longer than max(1 s, 3 frame periods).
 * - `blocked`: frames arrive, but a stage downstream cannot keep up: since the last sample, the frames
 *   dropped by the queues (in front of inference, rules, drawing, output) plus the output ticks skipped
 *   because ffmpeg #2 was still busy reached at least 10% of the frames that arrived (and at least one).
 *   `blockedAt` names where most of them were lost ('encoder' for the busy encoder).
 * - `flowing`: neither.
 *
 * Before the first frame, and once the run is stopping or has ended, there is no reading (null).
 */
export type FlowState = 'flowing' | 'stalled' | 'blocked';
export const FLOW_STATES: readonly FlowState[] = ['flowing', 'stalled', 'blocked'];

/** Where a blocked run loses its frames: a queue (named by the stage it feeds) or the busy encoder. */
export type BlockedAt = DropPoint | 'encoder';

export interface FlowReading {
  readonly state: FlowState | null;
  /** Set when blocked. */
  readonly blockedAt: BlockedAt | null;
}

export const NO_FLOW: FlowReading = { state: null, blockedAt: null };

/** Share of the arrived frames lost downstream at which a run counts as blocked. */
export const BLOCKED_LOSS_RATIO = 0.1;

export interface FlowInput {
  /** The run's state name (see runStateName). */
  readonly runState: string;
  readonly stats: RunStats;
  /** The source's frame rate (undefined before the first connection). */
  readonly fps: number | undefined;
  /** Arrival of the last frame (epoch ms, FrameRecord.arrivedAtMs: preciseNowMs), undefined before the first. */
  readonly lastArrivalMs: number | undefined;
  /** Now on lastArrivalMs's clock (preciseNowMs, not Date.now: the wall clock can step away from it). */
  readonly nowMs: number;
}

type LossCounts = Record<BlockedAt, number>;

function losses(s: RunStats): LossCounts {
  return {
    inference: s.droppedBeforeInference,
    rules: s.droppedBeforeRules,
    drawing: s.droppedBeforeDrawing,
    output: s.droppedAtOutput,
    encoder: s.droppedEncoderBusy,
  };
}

/** Keeps the previous sample; each sample() classifies the window since it. */
export class FlowMonitor {
  private prev: { framesIn: number; lost: LossCounts } | undefined;
  private last: FlowReading = NO_FLOW;

  get reading(): FlowReading {
    return this.last;
  }

  sample(i: FlowInput): FlowReading {
    const cur = { framesIn: i.stats.framesIn, lost: losses(i.stats) };
    const prev = this.prev;
    this.prev = cur;
    this.last = classify(i, prev, cur);
    return this.last;
  }
}

function classify(i: FlowInput, prev: { framesIn: number; lost: LossCounts } | undefined, cur: { framesIn: number; lost: LossCounts }): FlowReading {
  const hadFrames = i.stats.framesIn > 0;
  if (!hadFrames) return NO_FLOW;
  if (i.runState === 'retrying' || i.runState === 'connecting') return { state: 'stalled', blockedAt: null };
  if (i.runState !== 'running') return NO_FLOW;
  const quietLimitMs = Math.max(1000, i.fps && i.fps > 0 ? 3000 / i.fps : 0);
  if (i.lastArrivalMs === undefined || i.nowMs - i.lastArrivalMs > quietLimitMs) return { state: 'stalled', blockedAt: null };
  if (!prev) return { state: 'flowing', blockedAt: null };
  const arrived = cur.framesIn - prev.framesIn;
  let lost = 0;
  let worst: BlockedAt | null = null;
  let worstCount = 0;
  for (const at of Object.keys(cur.lost) as BlockedAt[]) {
    const d = cur.lost[at] - prev.lost[at];
    lost += d;
    if (d > worstCount) {
      worstCount = d;
      worst = at;
    }
  }
  if (lost >= 1 && lost >= BLOCKED_LOSS_RATIO * arrived) return { state: 'blocked', blockedAt: worst };
  return { state: 'flowing', blockedAt: null };
}

/** `flowing`, `stalled`, `blocked(inference)`, or `-` (no reading), for status lines. */
export function describeFlow(r: FlowReading): string {
  if (!r.state) return '-';
  return r.state === 'blocked' && r.blockedAt ? `blocked(${r.blockedAt})` : r.state;
}
