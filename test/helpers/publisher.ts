import { Publisher, type PublisherCounters } from '../../src/io/output/publisher.js';
import { defaultEncoderSettings } from '../../src/io/ffmpeg/encoder.js';
import type { FrameRecord } from '../../src/frame.js';
import { silentLogger } from '../../src/log.js';

export function newCounters(): PublisherCounters {
  return { framesOut: 0, framesRepeated: 0, framesSlate: 0, accessUnitsOut: 0, droppedEncoderBusy: 0, firstOutputAtMs: undefined };
}

/**
 * A Publisher (the output clock and ffmpeg #2) pushing to an RTSP server nobody runs: for tests whose
 * FFMPEG_PATH is a stand-in (fakeFfmpeg) that records or swallows what it is given. A fatal error is
 * thrown unless `onFatal` takes it.
 */
export function pushingPublisher(o: {
  fps: number;
  width: number;
  height: number;
  nextFrame(): FrameRecord | undefined;
  counters: PublisherCounters;
  onFatal?: (err: Error) => void;
}): Publisher {
  return new Publisher({
    fps: o.fps,
    width: o.width,
    height: o.height,
    encoder: defaultEncoderSettings,
    mount: undefined,
    pushUrl: 'rtsp://127.0.0.1:1/out',
    nextFrame: () => o.nextFrame(),
    counters: o.counters,
    logger: silentLogger,
    onFatal:
      o.onFatal ??
      ((err) => {
        throw err;
      }),
  });
}
