import { createWriteStream, type WriteStream } from 'node:fs';
import { FfmpegDecoder } from '../io/ffmpeg/decoder.js';
import { FfmpegEncoder } from '../io/ffmpeg/encoder.js';
import { createDetector as createDetectorHere, type DetectorFactory, type DetectorOptions } from '../inference/detector.js';
import type { RuleEvent } from '../rules/index.js';
import type { RuleCounters } from '../rules/index.js';
import type { ConfigBody } from '../config/body.js';
import type { FrameRecord } from '../frame.js';
import { BackpressureQueue } from '../queue.js';
import { FramePool } from '../pipeline/framePool.js';
import { admitFrame, createRunStore } from '../pipeline/runStore.js';
import { createProcessingStages } from '../pipeline/processingStages.js';
import { createStageRunner } from '../pipeline/stage.js';
import { checkedDetector, detectorOptionsFor } from '../pipeline/stages/inference.js';
import { InternalError, coerceError, type SieError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ReplayProgressSnapshot } from './progress.js';

export interface ReplayOptions {
  video: string;
  detector: DetectorOptions;
  /** Where detectors run (an inference pool's workers); createDetector on this thread by default. */
  createDetector?: DetectorFactory;
  /** Frames in detection at once: the pool's workers (1 on this thread). */
  inferenceConcurrency?: number;
  config: ConfigBody;
  name: string;
  /** Annotated video to write (mp4); none = events only. */
  out?: string;
  /** x264 preset for `out` (default veryfast). */
  preset?: string;
  /** Events, one JSON object a line. */
  eventsPath?: string;
  logger: Logger;
  /** Fixed wall time of the first frame, so event times are reproducible (default: the file's own zero). */
  startedAtMs?: number;
  /** After each frame has gone through every stage (progress reporting); never changes the result. */
  onFrame?: (progress: ReplayProgressSnapshot) => void;
}

export interface ReplayResult {
  frames: number;
  detectedFrames: number;
  /** From the model loaded to the last frame written: the work, without the start-up. */
  seconds: number;
  fps: number;
  events: RuleEvent[];
  counters: Record<string, RuleCounters>;
}

/** Frames decoded ahead of the stages before the decoder is paused. */
const READ_AHEAD = 8;
/** Frames waiting in front of each stage: enough to keep the stages busy, no more memory than that. */
const QUEUE_SLOTS = 2;

/**
 * A config over a file, through the same stages as a live run (src/pipeline), as fast as the machine
 * allows and with no frame dropped: instead of queues that drop the oldest, queues that make the stage
 * before wait, and a decoder paused when it runs ahead. Same input → same events, since time is the
 * file's pts.
 */
export async function replay(o: ReplayOptions): Promise<ReplayResult> {
  const createDetector = o.createDetector ?? createDetectorHere;
  const detector = await checkedDetector(createDetector, o.detector, o.config);
  const t0 = performance.now();
  const store = createRunStore({ config: o.config });
  const events: RuleEvent[] = [];
  const sink: WriteStream | undefined = o.eventsPath ? createWriteStream(o.eventsPath) : undefined;
  const stages = createProcessingStages({
    store,
    runId: 'replay',
    clientId: 'replay',
    labels: detector.labels,
    title: o.name,
    detectorFor: (config) => createDetector(detectorOptionsFor(o.detector, config.body)),
    initialDetector: detector,
    inferenceConcurrency: o.inferenceConcurrency,
    startedAtMs: o.startedAtMs ?? 0,
    onEvents: (list) => {
      for (const e of list) {
        events.push(e);
        sink?.write(`${JSON.stringify(e)}\n`);
      }
    },
    draw: o.out !== undefined,
  });
  // Each stage in its own loop, joined by queues that wait instead of dropping: a frame is in inference
  // (on a worker) while the one before it is ruled, drawn and encoded, and every frame goes through every
  // stage in order, so the events are the same as one frame at a time.
  const queues = [...stages.list, undefined].map(() => new BackpressureQueue<FrameRecord>(QUEUE_SLOTS));
  const decoded = new BackpressureQueue<FrameRecord>(Number.MAX_SAFE_INTEGER);
  const frames = new FramePool();
  let failure: SieError | undefined;
  const fail = (err: unknown) => {
    failure ??= coerceError(err);
    decoded.abort();
    for (const q of queues) q.abort();
  };
  const decoder = new FfmpegDecoder(
    { source: { url: o.video, transport: 'tcp', realtime: false }, ioTimeoutS: 10, logger: o.logger, allocateFrame: (size) => frames.acquire(size) },
    {
      onInfo: (info) => store.trigger.sourceOpened({ info }),
      onFrame: (pixels, _index, ptsS, arrivedAtMs) => {
        void decoded.push(admitFrame(store, { runId: 'replay', pixels, ptsS, arrivedAtMs }));
        if (decoded.length >= READ_AHEAD) decoder.pause();
      },
      onExit: (err) => {
        if (err) fail(err);
        else decoded.close();
      },
    },
  );
  // The decoder runs ahead by READ_AHEAD frames at most: paused when the first stage falls behind.
  const feed = async () => {
    for (;;) {
      const frame = await decoded.take();
      if (decoded.length < 2) decoder.resume();
      if (!frame) return queues[0]!.close();
      await queues[0]!.push(frame);
    }
  };
  const stageLoop = async (i: number) => {
    const stage = stages.list[i]!;
    const run = createStageRunner(stage);
    const concurrency = stage.concurrency ?? 1;
    const input = queues[i]!;
    const next = queues[i + 1]!;
    // Up to `concurrency` frames in the stage at once (inference on several workers), handed on in order.
    const inFlight: Promise<FrameRecord>[] = [];
    for (;;) {
      const frame = await input.take();
      if (frame) {
        const done = run(frame).then(() => frame);
        done.catch(() => undefined); // awaited below, in order; not an unhandled rejection meanwhile
        inFlight.push(done);
      }
      while (inFlight.length >= concurrency || (!frame && inFlight.length > 0)) await next.push(await inFlight.shift()!);
      if (!frame) return next.close();
    }
  };
  let encoder: FfmpegEncoder | undefined;
  let encoderError: SieError | undefined;
  let framesDone = 0;
  const output = async () => {
    for (;;) {
      const frame = await queues[stages.list.length]!.take();
      if (!frame) return;
      o.onFrame?.({ frames: ++framesDone, ptsS: frame.ptsS, events: events.length });
      if (!o.out) {
        frames.release(frame.pixels);
        continue;
      }
      const fps = store.getSnapshot().context.source.info!.fps;
      encoder ??= new FfmpegEncoder({
        width: frame.width,
        height: frame.height,
        fps,
        settings: { preset: o.preset ?? 'veryfast', keyframeIntervalS: 2, threads: 0 },
        output: { kind: 'file', path: o.out },
        logger: o.logger,
        onExit: (err) => (encoderError = err),
      });
      if (encoderError) throw encoderError;
      await encoder.write(frame.pixels);
      frames.release(frame.pixels);
    }
  };
  try {
    await Promise.all([feed(), ...stages.list.map((_, i) => stageLoop(i)), output()].map((p) => p.catch(fail)));
    if (failure) throw failure;
    stages.close();
    if (encoder) {
      const code = await encoder.finish();
      if (code !== 0) throw new InternalError(`encoder could not write ${o.out} (exit ${code})`);
    }
  } finally {
    await decoder.stop();
    if (encoder) await encoder.stop();
    await new Promise<void>((r) => (sink ? sink.end(r) : r()));
  }
  const seconds = (performance.now() - t0) / 1000;
  const { stats } = store.getSnapshot().context;
  return { frames: stats.framesIn, detectedFrames: stats.framesInferred, seconds, fps: stats.framesIn / seconds, events, counters: stages.rules.counters() ?? {} };
}
