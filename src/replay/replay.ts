import { createWriteStream, type WriteStream } from 'node:fs';
import { FfmpegDecoder } from '../io/ffmpeg/decoder.js';
import { FfmpegEncoder } from '../io/ffmpeg/encoder.js';
import { createDetector as createDetectorHere, type DetectorFactory, type DetectorOptions } from '../inference/detector.js';
import type { RuleEvent } from '../rules/index.js';
import type { RuleCounters } from '../rules/index.js';
import type { ConfigBody } from '../config/body.js';
import { assertKnownClassNames } from '../config/classNames.js';
import type { FrameRecord } from '../frame.js';
import { admitFrame, createRunStore } from '../pipeline/runStore.js';
import { createProcessingStages } from '../pipeline/processingStages.js';
import { createStageRunner } from '../pipeline/stage.js';
import { detectorOptionsFor } from '../pipeline/stages/inference.js';
import { InternalError, type SieError } from '../errors.js';
import type { Logger } from '../log.js';

export interface ReplayOptions {
  video: string;
  detector: DetectorOptions;
  /** Where detectors run (an inference pool's workers); createDetector on this thread by default. */
  createDetector?: DetectorFactory;
  config: ConfigBody;
  name: string;
  /** Annotated video to write (mp4); none = events only. */
  out?: string;
  /** Events, one JSON object a line. */
  eventsPath?: string;
  logger: Logger;
  /** Fixed wall time of the first frame, so event times are reproducible (default: the file's own zero). */
  startedAtMs?: number;
}

export interface ReplayResult {
  frames: number;
  detectedFrames: number;
  seconds: number;
  fps: number;
  events: RuleEvent[];
  counters: Record<string, RuleCounters>;
}

/** Frames decoded ahead of the stages before the decoder is paused. */
const READ_AHEAD = 8;

/**
 * A config over a file, through the same stages as a live run (src/pipeline), as fast as the machine
 * allows and with no frame dropped: instead of queues that drop the oldest, the decoder is paused when we
 * fall behind, and each frame goes through every stage before the next. Same input → same events, since
 * time is the file's pts.
 */
export async function replay(o: ReplayOptions): Promise<ReplayResult> {
  const t0 = performance.now();
  const createDetector = o.createDetector ?? createDetectorHere;
  const detector = await createDetector(detectorOptionsFor(o.detector, o.config));
  assertKnownClassNames(o.config, detector.labels);
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
    startedAtMs: o.startedAtMs ?? 0,
    onEvents: (list) => {
      for (const e of list) {
        events.push(e);
        sink?.write(`${JSON.stringify(e)}\n`);
      }
    },
    draw: o.out !== undefined,
  });
  const runners = stages.list.map(createStageRunner);

  const queue: FrameRecord[] = [];
  let waiter: (() => void) | undefined;
  let ended = false;
  let failure: SieError | undefined;
  const wake = () => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  const decoder = new FfmpegDecoder(
    { source: { url: o.video, transport: 'tcp', realtime: false }, ioTimeoutS: 10, logger: o.logger },
    {
      onInfo: (info) => store.trigger.sourceOpened({ info }),
      onFrame: (pixels, _index, ptsS, arrivedAtMs) => {
        queue.push(admitFrame(store, { runId: 'replay', pixels, ptsS, arrivedAtMs }));
        if (queue.length >= READ_AHEAD) decoder.pause();
        wake();
      },
      onExit: (err) => {
        ended = true;
        failure = err;
        wake();
      },
    },
  );
  let encoder: FfmpegEncoder | undefined;
  let encoderError: SieError | undefined;
  try {
    for (;;) {
      const frame = queue.shift();
      if (!frame) {
        if (ended) break;
        decoder.resume();
        await new Promise<void>((r) => (waiter = r));
        continue;
      }
      if (queue.length < 2) decoder.resume();
      for (const run of runners) await run(frame);
      if (o.out) {
        const fps = store.getSnapshot().context.source.info!.fps;
        encoder ??= new FfmpegEncoder({
          width: frame.width,
          height: frame.height,
          fps,
          settings: { preset: 'veryfast', keyframeIntervalS: 2, threads: 0 },
          output: { kind: 'file', path: o.out },
          logger: o.logger,
          onExit: (err) => (encoderError = err),
        });
        if (encoderError) throw encoderError;
        await encoder.write(frame.pixels);
      }
    }
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
