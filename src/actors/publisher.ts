import { fromCallback, type EventObject } from 'xstate';
import { OutputClock, type OutputEncoderHooks } from '../pipeline/outputClock.js';
import { prepareSlate } from '../drawing/slate.js';
import { FfmpegEncoder, type EncoderSettings } from '../io/ffmpeg/encoder.js';
import type { RtspMount } from '../io/rtsp/index.js';
import type { RunEvent } from '../machines/run.machine.js';
import type { FrameRecord } from '../frame.js';
import type { FrameOrigin, FrameOutput } from '../pipeline/frameTimings.js';
import type { DropOldestQueue } from '../queue.js';
import { framesInStages, type RunStore } from '../pipeline/runStore.js';
import { coerceError, toRunError, type SieError } from '../errors.js';
import type { Logger } from '../log.js';

export interface PublisherActorDeps {
  /** Drawn frames (the output queue of a live run). */
  input: DropOldestQueue<FrameRecord>;
  store: RunStore;
  encoder: EncoderSettings;
  /** Where the output goes: the embedded server's mount, or a URL ffmpeg pushes to. */
  getMount(): RtspMount | undefined;
  pushUrl?: string;
  logger: Logger;
  /** Lets the run's shutdown wait until ffmpeg #2 is reaped. */
  track(stop: Promise<unknown>): void;
  /** Frames' pixels the output is done with (the run's frame pool). */
  releasePicture?(pixels: Buffer): void;
  /** Each new frame's timing once its packets are sent (embedded mount only, see OutputClockOptions). */
  onFrameSent?(t: FrameOutput): void;
  /** Each new frame handed to a pushing ffmpeg #2 (push output only). */
  onFramePushed?(t: FrameOutput): void;
  /** New frames lost at the encoder (see OutputClockOptions.onFrameLost). */
  onFrameLost?(f: FrameOrigin, atMs: number): void;
}

/**
 * Starts the output clock and ffmpeg #2 on the first annotated frame (the size and rate are known only
 * then) and keeps them running until the run ends; hears source.lost / source.restored from the run
 * machine for the slate.
 */
export function createPublisherActor(deps: PublisherActorDeps) {
  return fromCallback<EventObject>(({ sendBack, receive }) => {
    let clock: OutputClock | undefined;
    let stopped = false;
    let lost = false;
    receive((e) => {
      if (e.type === 'source.lost') {
        lost = true;
        clock?.sourceLost();
      } else if (e.type === 'source.restored') {
        lost = false;
        clock?.sourceRestored();
      }
    });
    const fatal = (err: SieError) =>
      sendBack({ type: 'stage.failed', error: toRunError(err, { final: true }) } satisfies RunEvent);
    void (async () => {
      const first = await deps.input.take();
      const info = deps.store.getSnapshot().context.source.info;
      if (!first || stopped || !info) return;
      await prepareSlate({ width: first.width, height: first.height });
      if (stopped) return;
      let pending: FrameRecord | undefined = first;
      const mount = deps.getMount();
      const { width, height } = first;
      clock = new OutputClock({
        fps: info.fps,
        width,
        height,
        startEncoder: (hooks: OutputEncoderHooks) =>
          new FfmpegEncoder({
            width,
            height,
            fps: info.fps,
            settings: deps.encoder,
            output: mount ? { kind: 'pipe' } : { kind: 'push', url: deps.pushUrl ?? '' },
            logger: deps.logger,
            ...hooks,
          }),
        sink: mount,
        count: (what) => deps.store.trigger.outputCounted({ count: what }),
        framesOnTheWay: () => framesInStages(deps.store.getSnapshot().context.stats),
        releasePicture: deps.releasePicture,
        onFrameSent: deps.onFrameSent,
        onFramePushed: deps.onFramePushed,
        onFrameLost: deps.onFrameLost,
        logger: deps.logger,
        nextFrame: () => {
          if (pending) {
            const f = pending;
            pending = undefined;
            return f;
          }
          // Oldest first: arrivals jitter around the output ticks, and taking the newest would turn that
          // jitter into a repeat followed by a drop. The queue's two slots bound the added latency.
          return deps.input.poll();
        },
        onFatal: fatal,
      });
      // A frame goes out as soon as it is drawn (see OutputClock), not at the clock's next tick.
      const c = clock;
      deps.input.onPushed(() => c.frameReady());
      if (lost) clock.sourceLost();
    })().catch((err: unknown) => {
      // Not an unhandled rejection: that would end the whole process, every other run with it.
      if (!stopped) fatal(coerceError(err));
    });
    return () => {
      stopped = true;
      deps.input.onPushed(undefined);
      if (clock) deps.track(clock.stop());
    };
  });
}
