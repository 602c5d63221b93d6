import { OutputClock } from '../../src/pipeline/outputClock.js';
import type { OutputCount } from '../../src/pipeline/runStore.js';
import { FfmpegEncoder, defaultEncoderSettings } from '../../src/io/ffmpeg/encoder.js';
import type { FrameRecord } from '../../src/frame.js';
import { silentLogger } from '../../src/log.js';

export type OutputCounters = Record<OutputCount, number>;

export function newCounters(): OutputCounters {
  return { framesOut: 0, framesRepeated: 0, framesSlate: 0, accessUnitsOut: 0, droppedEncoderBusy: 0 };
}

/**
 * The output clock with ffmpeg #2 pushing to an RTSP server nobody runs: for tests whose FFMPEG_PATH is a
 * stand-in (fakeFfmpeg) that records or swallows what it is given. A fatal error is thrown unless
 * `onFatal` takes it.
 */
export function pushingOutputClock(o: {
  fps: number;
  width: number;
  height: number;
  nextFrame(): FrameRecord | undefined;
  counters: OutputCounters;
  onFatal?: (err: Error) => void;
}): OutputClock {
  return new OutputClock({
    fps: o.fps,
    width: o.width,
    height: o.height,
    startEncoder: (hooks) =>
      new FfmpegEncoder({
        width: o.width,
        height: o.height,
        fps: o.fps,
        settings: defaultEncoderSettings,
        output: { kind: 'push', url: 'rtsp://127.0.0.1:1/out' },
        logger: silentLogger,
        ...hooks,
      }),
    sink: undefined,
    nextFrame: () => o.nextFrame(),
    count: (what) => o.counters[what]++,
    logger: silentLogger,
    onFatal:
      o.onFatal ??
      ((err) => {
        throw err;
      }),
  });
}
