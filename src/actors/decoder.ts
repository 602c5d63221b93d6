import { fromCallback, type EventObject } from 'xstate';
import { FfmpegDecoder, type SourceSpec } from '../io/ffmpeg/decoder.js';
import { SourceLostError, coerceError, toRunError, type SieError } from '../errors.js';
import type { RunEvent } from '../machines/run.machine.js';
import type { DropOldestQueue } from '../queue.js';
import type { FrameRecord, FrameTraceContext } from '../frame.js';
import { admitFrame, type RunStore } from '../pipeline/runStore.js';
import type { Logger } from '../log.js';

export interface DecoderActorDeps {
  runId: string;
  source: SourceSpec;
  /** Where each frame's bytes are written (the run's frame pool). */
  allocateFrame?(size: number): Buffer;
  /** Where decoded frames go (the inference stage's queue in a live run). */
  output: DropOldestQueue<FrameRecord>;
  /** Source state (geometry, time line, frame ids) and the config each frame is stamped with. */
  store: RunStore;
  logger: Logger;
  /** No frame for this long while running = the source is lost (an open but silent camera). */
  stallTimeoutS: number;
  /** Socket timeout handed to ffmpeg. */
  ioTimeoutS: number;
  /** Lets the run's shutdown wait until ffmpeg #1 is reaped. */
  track(stop: Promise<unknown>): void;
  /** With tracing on: each frame's trace context, made as it is admitted (FrameRecord.trace). */
  traceFrame?(frameId: number): FrameTraceContext;
}

/**
 * Wires ffmpeg #1 to the run: frames go into the output queue as FrameRecords, the machine hears
 * only decoder.connected / decoder.ended / decoder.failed. A watchdog catches a source that stays
 * connected but sends nothing.
 */
export function createDecoderActor(deps: DecoderActorDeps) {
  return fromCallback<EventObject>(({ sendBack }) => {
    const send = (e: RunEvent) => sendBack(e);
    let connected = false;
    // The monotonic clock, not Date.now: a wall clock stepped ahead (NTP, a resumed VM) would read as a stall
    // and reconnect a healthy source; one stepped back would hide a real stall.
    let lastFrameAt = performance.now();
    // Continue the run's time line after a reconnect (see FrameRecord.ptsS): the first frame of this
    // connection lands after the last one seen, plus the wall time the outage took.
    let ptsOffset: number | undefined;
    let done = false;
    const source = () => deps.store.getSnapshot().context.source;
    const fail = (err: SieError) => {
      if (done) return;
      done = true;
      // A source that worked before and now answers garbage (a camera rebooting) is an outage to retry,
      // not a bad source: only at the first connection is "no decodable video" final.
      const e = source().info && err.kind === 'source_invalid' ? new SourceLostError(err.message) : err;
      send({ type: 'decoder.failed', error: toRunError(e) });
    };
    let decoder: FfmpegDecoder;
    try {
      decoder = new FfmpegDecoder(
        {
          source: deps.source,
          // After a reconnect the output keeps the size it started with, whatever the camera now sends.
          outputSize: sizeOf(source().info),
          ioTimeoutS: deps.ioTimeoutS,
          logger: deps.logger,
          allocateFrame: deps.allocateFrame,
        },
        {
          onInfo: (info) => {
            deps.store.trigger.sourceOpened({ info });
            deps.logger.info({ codec: info.codec, width: info.width, height: info.height, fps: info.fps }, 'source stream');
          },
          onFrame: (pixels, _index, ptsS, arrivedAtMs) => {
            const { info, last } = source();
            if (done || !info) return;
            lastFrameAt = performance.now();
            ptsOffset ??= last ? last.ptsS + Math.max(1 / info.fps, (arrivedAtMs - last.atMs) / 1000) - ptsS : 0;
            const runPts = ptsS + ptsOffset;
            deps.output.push(admitFrame(deps.store, { runId: deps.runId, pixels, ptsS: runPts, arrivedAtMs, trace: deps.traceFrame }));
            if (!connected) {
              connected = true;
              send({ type: 'decoder.connected' });
            }
          },
          onExit: (error) => {
            if (done) return;
            if (error) fail(error);
            else {
              done = true;
              send({ type: 'decoder.ended' });
            }
          },
        },
      );
    } catch (err) {
      fail(coerceError(err));
      return () => undefined;
    }
    const watchdog = setInterval(() => {
      if (connected && performance.now() - lastFrameAt > deps.stallTimeoutS * 1000) {
        fail(new SourceLostError(`no frame from the source for ${deps.stallTimeoutS} s`));
        deps.track(decoder.stop());
      }
    }, 250);
    return () => {
      done = true;
      clearInterval(watchdog);
      deps.track(decoder.stop());
    };
  });
}

const sizeOf = (info: { width: number; height: number } | undefined) => (info ? { width: info.width, height: info.height } : undefined);
