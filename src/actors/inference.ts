import { fromCallback, type EventObject } from 'xstate';
import { ModelError, coerceError } from '../errors.js';
import type { Detector } from '../io/models/detector.js';
import type { RunEvent } from '../machines/run.machine.js';
import type { RunPipes, RunStats } from './resources.js';
import type { Logger } from '../log.js';

export interface InferenceActorDeps {
  pipes: RunPipes;
  stats: RunStats;
  getDetector(): Detector;
  logger: Logger;
}

/**
 * decoded → detector → inferred. One frame in flight: while the model runs, newer frames replace older
 * ones in the decoded queue (dropped and counted), so detection always works on a recent picture.
 */
export function createInferenceActor(deps: InferenceActorDeps) {
  return fromCallback<EventObject>(({ sendBack }) => {
    let stopped = false;
    void (async () => {
      const detector = deps.getDetector();
      for (;;) {
        const frame = await deps.pipes.decoded.take();
        if (!frame || stopped) return;
        const t0 = performance.now();
        try {
          frame.detections = await detector.detect(frame);
        } catch (err) {
          if (stopped) return;
          const e = coerceError(err);
          const modelErr = e.kind === 'internal_error' ? new ModelError(`inference failed: ${e.message}`) : e;
          sendBack({ type: 'stage.failed', error: { kind: modelErr.kind, message: modelErr.message, retryable: false } } satisfies RunEvent);
          return;
        }
        frame.times.inferenceMs = performance.now() - t0;
        deps.stats.lastInferenceMs = frame.times.inferenceMs;
        deps.stats.framesInferred++;
        deps.pipes.inferred.push(frame);
      }
    })();
    return () => {
      stopped = true;
    };
  });
}
