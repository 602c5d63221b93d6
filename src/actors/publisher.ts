import { fromCallback, type EventObject } from 'xstate';
import { Publisher } from '../io/output/publisher.js';
import { prepareSlate } from '../drawing/slate.js';
import type { EncoderSettings } from '../io/ffmpeg/encoder.js';
import type { RtspMount } from '../io/rtsp/index.js';
import type { RunEvent } from '../machines/run.machine.js';
import type { FrameRecord } from '../frame.js';
import type { RunPipes, RunStats, SourceState } from './resources.js';
import { coerceError, toRunError, type SieError } from '../errors.js';
import type { Logger } from '../log.js';

export interface PublisherActorDeps {
  pipes: RunPipes;
  stats: RunStats;
  sourceState: SourceState;
  encoder: EncoderSettings;
  /** Where the output goes: the embedded server's mount, or a URL ffmpeg pushes to. */
  getMount(): RtspMount | undefined;
  pushUrl?: string;
  logger: Logger;
  /** Lets the run's shutdown wait until ffmpeg #2 is reaped. */
  track(stop: Promise<unknown>): void;
}

/**
 * Starts ffmpeg #2 on the first annotated frame (the size and rate are known only then) and keeps it
 * running until the run ends; hears source.lost / source.restored from the run machine for the slate.
 */
export function createPublisherActor(deps: PublisherActorDeps) {
  return fromCallback<EventObject>(({ sendBack, receive }) => {
    let publisher: Publisher | undefined;
    let stopped = false;
    let lost = false;
    receive((e) => {
      if (e.type === 'source.lost') {
        lost = true;
        publisher?.sourceLost();
      } else if (e.type === 'source.restored') {
        lost = false;
        publisher?.sourceRestored();
      }
    });
    const fatal = (err: SieError) =>
      sendBack({ type: 'stage.failed', error: toRunError(err, { final: true }) } satisfies RunEvent);
    void (async () => {
      const first = await deps.pipes.drawn.take();
      const info = deps.sourceState.info;
      if (!first || stopped || !info) return;
      await prepareSlate({ width: first.width, height: first.height });
      if (stopped) return;
      let pending: FrameRecord | undefined = first;
      publisher = new Publisher({
        fps: info.fps,
        width: first.width,
        height: first.height,
        encoder: deps.encoder,
        mount: deps.getMount(),
        pushUrl: deps.pushUrl,
        counters: deps.stats,
        logger: deps.logger,
        nextFrame: () => {
          if (pending) {
            const f = pending;
            pending = undefined;
            return f;
          }
          // Oldest first: arrivals jitter around the output ticks, and taking the newest would turn that
          // jitter into a repeat followed by a drop. The queue's two slots bound the added latency.
          return deps.pipes.drawn.poll();
        },
        onFatal: fatal,
      });
      if (lost) publisher.sourceLost();
    })().catch((err: unknown) => {
      // Not an unhandled rejection: that would end the whole process, every other run with it.
      if (!stopped) fatal(coerceError(err));
    });
    return () => {
      stopped = true;
      if (publisher) deps.track(publisher.stop());
    };
  });
}
