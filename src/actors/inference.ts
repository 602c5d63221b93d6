import { fromCallback, type EventObject } from 'xstate';
import { ModelError, coerceError, toRunError } from '../errors.js';
import type { Detector } from '../inference/detector.js';
import type { RunEvent } from '../machines/run.machine.js';
import type { LiveConfig } from './liveConfig.js';
import type { RunPipes, RunStats } from './resources.js';
import type { Logger } from '../log.js';

export interface InferenceActorDeps {
  pipes: RunPipes;
  stats: RunStats;
  config: LiveConfig;
  /** The current detector (replaced when the config's thresholds or classes change). */
  getDetector(): Detector;
  logger: Logger;
}

/**
 * decoded → detector → inferred. One frame in flight: while the model runs, newer frames replace older
 * ones in the decoded queue (dropped and counted), so detection always works on a recent picture. With
 * `every_nth_frame` > 1 the other frames pass without detections and the tracker carries the objects.
 */
export function createInferenceActor(deps: InferenceActorDeps) {
  return fromCallback<EventObject>(({ sendBack }) => {
    let stopped = false;
    void (async () => {
      // Counts frames reaching this stage (not frame ids, which skip dropped frames), so detection runs on
      // exactly one frame in n of those that arrive.
      let seen = 0;
      for (;;) {
        const frame = await deps.pipes.decoded.take();
        if (!frame || stopped) return;
        const nth = deps.config.body.inference.every_nth_frame;
        if (seen++ % nth === 0) {
          const t0 = performance.now();
          try {
            frame.detections = await deps.getDetector().detect(frame);
          } catch (err) {
            if (stopped) return;
            const e = coerceError(err);
            const modelErr = e.kind === 'internal_error' ? new ModelError(`inference failed: ${e.message}`) : e;
            sendBack({ type: 'stage.failed', error: toRunError(modelErr, { final: true }) } satisfies RunEvent);
            return;
          }
          frame.times.inferenceMs = performance.now() - t0;
          deps.stats.lastInferenceMs = frame.times.inferenceMs;
          deps.stats.framesInferred++;
        }
        deps.pipes.inferred.push(frame);
      }
    })();
    return () => {
      stopped = true;
    };
  });
}
