import { DropOldestQueue } from '../queue.js';
import type { FrameRecord } from '../frame.js';
import type { DecodedStreamInfo } from '../io/ffmpeg/streamInfo.js';

/** Counters of one run, read by the CLI's status line (and later by metrics). Plain numbers: cheap to bump. */
export interface RunStats {
  framesIn: number;
  framesInferred: number;
  framesDrawn: number;
  /** Output ticks that reached the encoder (new, repeated or slate pictures). */
  framesOut: number;
  framesRepeated: number;
  framesSlate: number;
  accessUnitsOut: number;
  droppedBeforeInference: number;
  droppedBeforeRules: number;
  droppedBeforeDrawing: number;
  /** Annotated frames never shown because a newer one was ready at the same output tick. */
  droppedAtOutput: number;
  /** Output ticks skipped because ffmpeg #2 had not taken the previous frame yet. */
  droppedEncoderBusy: number;
  reconnects: number;
  firstOutputAtMs: number | undefined;
  startedAtMs: number;
  lastInferenceMs: number;
}

export function newRunStats(): RunStats {
  return {
    framesIn: 0,
    framesInferred: 0,
    framesDrawn: 0,
    framesOut: 0,
    framesRepeated: 0,
    framesSlate: 0,
    accessUnitsOut: 0,
    droppedBeforeInference: 0,
    droppedBeforeRules: 0,
    droppedBeforeDrawing: 0,
    droppedAtOutput: 0,
    droppedEncoderBusy: 0,
    reconnects: 0,
    firstOutputAtMs: undefined,
    startedAtMs: Date.now(),
    lastInferenceMs: 0,
  };
}

export function totalDropped(s: RunStats): number {
  return s.droppedBeforeInference + s.droppedBeforeRules + s.droppedBeforeDrawing + s.droppedAtOutput;
}

/**
 * The bounded queues between stages. Two slots each: enough to overlap a stage with the next, never
 * enough to build latency. Every drop is counted where it happens.
 */
export interface RunPipes {
  decoded: DropOldestQueue<FrameRecord>;
  inferred: DropOldestQueue<FrameRecord>;
  ruled: DropOldestQueue<FrameRecord>;
  drawn: DropOldestQueue<FrameRecord>;
}

export function newRunPipes(stats: RunStats, capacity = 2): RunPipes {
  return {
    decoded: new DropOldestQueue(capacity, () => stats.droppedBeforeInference++),
    inferred: new DropOldestQueue(capacity, () => stats.droppedBeforeRules++),
    ruled: new DropOldestQueue(capacity, () => stats.droppedBeforeDrawing++),
    drawn: new DropOldestQueue(capacity, () => stats.droppedAtOutput++),
  };
}

export function closePipes(p: RunPipes): void {
  p.decoded.close();
  p.inferred.close();
  p.ruled.close();
  p.drawn.close();
}

/** What the source turned out to be, set by the decoder on first connect; fixes the output geometry. */
export interface SourceState {
  info: DecodedStreamInfo | undefined;
  /** Next per-run frame id: continues across reconnects so ids are never reused. */
  nextFrameId: number;
  /** The last frame's run pts and arrival, to continue the time line after a reconnect. */
  last?: { ptsS: number; atMs: number };
}

/**
 * The stops (ffmpeg processes being reaped) a run's shutdown must wait for. A stop is forgotten once it
 * has settled: a flaky camera reconnects for as long as the run lives, one decoder stop each time.
 */
export interface StopTracker {
  track(stop: Promise<unknown>): void;
  /** Resolves when every stop tracked so far has settled. */
  settled(): Promise<void>;
  readonly pending: number;
}

export function newStopTracker(): StopTracker {
  const pending = new Set<Promise<unknown>>();
  return {
    track(stop) {
      pending.add(stop);
      const forget = () => void pending.delete(stop);
      stop.then(forget, forget);
    },
    async settled() {
      await Promise.allSettled([...pending]);
    },
    get pending() {
      return pending.size;
    },
  };
}
