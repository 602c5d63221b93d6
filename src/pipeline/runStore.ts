import { createStore } from '@xstate/store';
import type { ConfigBody } from '../config/body.js';
import type { AppliedConfig, DecodedStreamInfo, FrameRecord, FrameTraceContext } from '../frame.js';
import { InternalError } from '../errors.js';

/** Counters of one run, read by the CLI's status line, the engine's `run stats` log line (later metrics). */
export interface RunStats {
  framesIn: number;
  /** Frames the detector ran on (every_nth_frame skips the others). */
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

/** Where a queue between two stages dropped a frame (the queue in front of the named stage). */
export type DropPoint = 'inference' | 'rules' | 'drawing' | 'output';

/** What the output clock counts (see OutputCounter in the publisher). */
export type OutputCount = 'framesOut' | 'framesRepeated' | 'framesSlate' | 'accessUnitsOut' | 'droppedEncoderBusy';

/** What the source turned out to be, and where its time line stands. */
export interface SourceState {
  /** Set on the first connection; fixes the output's geometry and rate for the whole run. */
  info: DecodedStreamInfo | undefined;
  /** Next per-run frame id: continues across reconnects so ids are never reused. */
  nextFrameId: number;
  /** The last frame's run pts and arrival, to continue the time line after a reconnect. */
  last: { ptsS: number; atMs: number } | undefined;
}

export interface RunState {
  config: AppliedConfig;
  source: SourceState;
  stats: RunStats;
}

const DROP_COUNTER: Record<DropPoint, keyof RunStats> = {
  inference: 'droppedBeforeInference',
  rules: 'droppedBeforeRules',
  drawing: 'droppedBeforeDrawing',
  output: 'droppedAtOutput',
};

function newRunStats(startedAtMs: number): RunStats {
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
    startedAtMs,
    lastInferenceMs: 0,
  };
}

const bump = (s: RunState, key: keyof RunStats, patch: Partial<RunStats> = {}): RunState => ({
  ...s,
  stats: { ...s.stats, [key]: (s.stats[key] ?? 0) + 1, ...patch },
});

/**
 * The state a run's stages share, with one owner: the stages and the output never hold it by reference,
 * they send an event and read a snapshot. So a reconfigure is one event (`configApplied`), and a frame is
 * stamped with one consistent config (see FrameRecord.config); counters are bumped in one place.
 */
export function createRunStore(o: { config: ConfigBody; source?: Partial<SourceState>; startedAtMs?: number }) {
  return createStore({
    context: {
      config: { version: 0, body: o.config },
      source: { info: undefined, nextFrameId: 0, last: undefined, ...o.source },
      stats: newRunStats(o.startedAtMs ?? Date.now()),
    } as RunState,
    on: {
      configApplied: (s, e: { body: ConfigBody }) => ({ ...s, config: { version: s.config.version + 1, body: e.body } }),
      /** The first connection decides the run's geometry; later ones keep it (the decoder scales to it). */
      sourceOpened: (s, e: { info: DecodedStreamInfo }) => (s.source.info ? s : { ...s, source: { ...s.source, info: e.info } }),
      /** A frame entered the pipeline with id `source.nextFrameId` (read it before sending this). */
      frameDecoded: (s, e: { ptsS: number; atMs: number }) => ({
        ...bump(s, 'framesIn'),
        source: { ...s.source, nextFrameId: s.source.nextFrameId + 1, last: { ptsS: e.ptsS, atMs: e.atMs } },
      }),
      frameDropped: (s, e: { before: DropPoint }) => bump(s, DROP_COUNTER[e.before]),
      frameDetected: (s, e: { ms: number }) => bump(s, 'framesInferred', { lastInferenceMs: e.ms }),
      frameDrawn: (s) => bump(s, 'framesDrawn'),
      outputCounted: (s, e: { count: OutputCount }) =>
        bump(s, e.count, e.count === 'accessUnitsOut' && s.stats.firstOutputAtMs === undefined ? { firstOutputAtMs: Date.now() } : {}),
      reconnecting: (s) => bump(s, 'reconnects'),
    },
  });
}

export type RunStore = ReturnType<typeof createRunStore>;

export function totalDropped(s: RunStats): number {
  return s.droppedBeforeInference + s.droppedBeforeRules + s.droppedBeforeDrawing + s.droppedAtOutput;
}

/** Frames decoded and still in the stages: neither drawn nor dropped before drawing (see OutputClockOptions). */
export function framesInStages(s: RunStats): number {
  return s.framesIn - s.framesDrawn - s.droppedBeforeInference - s.droppedBeforeRules - s.droppedBeforeDrawing;
}

/**
 * A decoded picture becomes the run's next FrameRecord: the next frame id, and the config in force now,
 * which every stage then processes it with. The source's time line moves on to it.
 */
export function admitFrame(
  store: RunStore,
  d: { runId: string; pixels: Buffer; ptsS: number; arrivedAtMs: number; trace?: (frameId: number) => FrameTraceContext },
): FrameRecord {
  const { source, config } = store.getSnapshot().context;
  if (!source.info) throw new InternalError('a frame was decoded before the source stream was known');
  store.trigger.frameDecoded({ ptsS: d.ptsS, atMs: d.arrivedAtMs });
  return {
    runId: d.runId,
    frameId: source.nextFrameId,
    ptsS: d.ptsS,
    arrivedAtMs: d.arrivedAtMs,
    width: source.info.width,
    height: source.info.height,
    pixels: d.pixels,
    config,
    stages: [],
    // Always the same fields, set or not: one object shape for every frame of the run.
    trace: d.trace?.(source.nextFrameId),
  };
}
