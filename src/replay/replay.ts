import { createWriteStream, type WriteStream } from 'node:fs';
import { FfmpegDecoder } from '../io/ffmpeg/decoder.js';
import { FfmpegEncoder } from '../io/ffmpeg/encoder.js';
import { createDetector, type DetectorOptions } from '../inference/detector.js';
import { createRulesEngine, type RulesEngine } from '../rules/index.js';
import type { RuleEvent } from '../rules/events.js';
import { createSceneRenderer, type SceneRenderer } from '../drawing/scene.js';
import { overlayFromRules } from '../actors/overlay.js';
import type { ConfigBody } from '../config/index.js';
import { assertKnownClassNames } from '../config/classNames.js';
import type { DecodedStreamInfo } from '../io/ffmpeg/streamInfo.js';
import { InternalError, type SieError } from '../errors.js';
import type { Logger } from '../log.js';

export interface ReplayOptions {
  video: string;
  detector: DetectorOptions;
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
  counters: ReturnType<RulesEngine['counters']>;
}

interface Pending {
  pixels: Buffer;
  ptsS: number;
}

/**
 * A config over a file, as fast as the machine allows, with no frame dropped: the decoder is paused when
 * we fall behind (the opposite of a live run). Same input → same events, since time is the file's pts.
 */
export async function replay(o: ReplayOptions): Promise<ReplayResult> {
  const t0 = performance.now();
  const detector = await createDetector({
    ...o.detector,
    confidence: o.config.inference.confidence,
    iou: o.config.inference.iou,
    classes: o.config.inference.classes,
  });
  assertKnownClassNames(o.config, detector.labels);
  const queue: Pending[] = [];
  let waiter: (() => void) | undefined;
  let ended = false;
  let failure: SieError | undefined;
  let info: DecodedStreamInfo | undefined;
  const wake = () => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  const decoder = new FfmpegDecoder(
    { source: { url: o.video, transport: 'tcp', realtime: false }, ioTimeoutS: 10, logger: o.logger },
    {
      onInfo: (i) => (info = i),
      onFrame: (pixels, _index, ptsS) => {
        queue.push({ pixels, ptsS });
        if (queue.length >= 8) decoder.pause();
        wake();
      },
      onExit: (err) => {
        ended = true;
        failure = err;
        wake();
      },
    },
  );
  const events: RuleEvent[] = [];
  const sink: WriteStream | undefined = o.eventsPath ? createWriteStream(o.eventsPath) : undefined;
  const emit = (list: RuleEvent[]) => {
    for (const e of list) {
      events.push(e);
      sink?.write(`${JSON.stringify(e)}\n`);
    }
  };
  let rules: RulesEngine | undefined;
  let scene: SceneRenderer | undefined;
  let encoder: FfmpegEncoder | undefined;
  let encoderError: SieError | undefined;
  let frames = 0;
  let detectedFrames = 0;
  let last = { frameId: 0, ptsS: 0 };
  const nth = o.config.inference.every_nth_frame;
  const filters = { min_area: o.config.inference.min_area, ignore_zones: o.config.inference.ignore_zones };
  try {
    for (;;) {
      if (queue.length === 0) {
        if (ended) break;
        decoder.resume();
        await new Promise<void>((r) => (waiter = r));
        continue;
      }
      const f = queue.shift()!;
      if (queue.length < 2) decoder.resume();
      const { width, height } = info!;
      rules ??= createRulesEngine({
        runId: 'replay',
        clientId: 'replay',
        rules: o.config.rules,
        filters,
        labels: detector.labels,
        width,
        height,
        startedAtMs: o.startedAtMs ?? 0,
        startPtsS: f.ptsS,
      });
      const frameId = frames++;
      const frame = { pixels: f.pixels, width, height };
      let detections;
      if (frameId % nth === 0) {
        detections = await detector.detect(frame);
        detectedFrames++;
      }
      const out = rules.process({ frameId, ptsS: f.ptsS, detections });
      emit(out.events);
      last = { frameId, ptsS: f.ptsS };
      if (o.out) {
        scene ??= await createSceneRenderer({ width, height, labels: detector.labels, style: o.config.drawing });
        const overlay = overlayFromRules(o.config.rules, rules.counters(), width, height);
        scene.draw(frame, { detections: out.detections, ...overlay, highlighted: out.triggered, header: { title: o.name, ptsS: f.ptsS, fps: info!.fps } });
        encoder ??= new FfmpegEncoder({
          width,
          height,
          fps: info!.fps,
          settings: { preset: 'veryfast', keyframeIntervalS: 2, threads: 0 },
          output: { kind: 'file', path: o.out },
          logger: o.logger,
          onExit: (err) => (encoderError = err),
        });
        if (encoderError) throw encoderError;
        await encoder.write(f.pixels);
      }
    }
    if (failure) throw failure;
    if (rules) emit(rules.finish(last));
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
  return { frames, detectedFrames, seconds, fps: frames / seconds, events, counters: rules?.counters() ?? {} };
}
