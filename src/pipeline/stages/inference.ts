import { ModelError, coerceError } from '../../errors.js';
import type { Detector, DetectorFactory, DetectorOptions } from '../../inference/detector.js';
import { assertKnownClassNames } from '../../config/classNames.js';
import type { ConfigBody } from '../../config/body.js';
import type { AppliedConfig, FrameRecord } from '../../frame.js';
import type { Stage } from '../stage.js';
import type { RunStore } from '../runStore.js';

/** The run's model with a config's thresholds and classes. */
export function detectorOptionsFor(model: DetectorOptions, body: ConfigBody): DetectorOptions {
  const { confidence, iou, classes, class_groups: classGroups, nms } = body.inference;
  return { ...model, confidence, iou, classes, classGroups, nms };
}

/**
 * A detector for a config, checked against it: a class name the model lacks is a config error now, not
 * a rule that silently counts nothing. Where a run starts, where it is reconfigured, and in replay.
 */
export async function checkedDetector(create: DetectorFactory, model: DetectorOptions, body: ConfigBody): Promise<Detector> {
  const detector = await create(detectorOptionsFor(model, body));
  assertKnownClassNames(body, detector.labels);
  return detector;
}

export interface InferenceStageOptions {
  store: RunStore;
  /** The detector for a config: its thresholds and classes come from `config.inference`. */
  detectorFor(config: AppliedConfig): Promise<Detector>;
  /** The detector already built for the run's first config (version 0), so the first frame does not wait. */
  initial?: { version: number; detector: Detector };
  /** Frames in detection at once: the inference workers (see Stage.concurrency). */
  concurrency?: number;
}

/**
 * Runs the detector on the frame. With `every_nth_frame` > 1 the other frames pass without detections
 * and the tracker carries the objects. It counts frames reaching this stage (not frame ids, which skip
 * dropped frames), so detection runs on exactly one frame in n of those that arrive.
 */
export function createInferenceStage(o: InferenceStageOptions): Stage {
  let detector = o.initial?.detector;
  let detectorVersion = o.initial?.version;
  let nth = 1;
  let seen = 0;
  return {
    name: 'inference',
    concurrency: o.concurrency ?? 1,
    hasRoom: () => detector?.hasIdleWorker?.() ?? false,
    async reconfigure(config) {
      nth = config.body.inference.every_nth_frame;
      if (detectorVersion === config.version && detector) return;
      detector = await o.detectorFor(config);
      detectorVersion = config.version;
    },
    async process(frame: FrameRecord) {
      if (seen++ % nth !== 0) return;
      const t0 = performance.now();
      try {
        frame.detections = await detector!.detect(frame);
        frame.detected = true;
      } catch (err) {
        const e = coerceError(err);
        throw e.kind === 'internal_error' ? new ModelError(e.message, { cause: err }) : e;
      }
      o.store.trigger.frameDetected({ ms: performance.now() - t0 });
    },
    close() {},
  };
}
