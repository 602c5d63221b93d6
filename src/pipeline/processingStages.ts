import type { Detector } from '../inference/detector.js';
import type { RuleEvent } from '../rules/index.js';
import type { AppliedConfig } from '../frame.js';
import type { Stage } from './stage.js';
import type { RunStore } from './runStore.js';
import { createInferenceStage } from './stages/inference.js';
import { createRulesStage, type RulesStage } from './stages/rules.js';
import { createDrawingStage } from './stages/drawing.js';

export interface ProcessingStagesOptions {
  store: RunStore;
  runId: string;
  clientId: string;
  /** Makes event ids unique across executions of the run (see RulesEngineOptions.idEpoch). */
  eventIdEpoch?: string;
  /** The model's class names. */
  labels: readonly string[];
  /** Shown in the output's header. */
  title: string;
  detectorFor(config: AppliedConfig): Promise<Detector>;
  /** The detector already built (and checked) for the first config. */
  initialDetector?: Detector;
  /** Frames in detection at once (the inference workers); 1 by default. */
  inferenceConcurrency?: number;
  /** See RulesStageOptions.startedAtMs. */
  startedAtMs?: number;
  onEvents(events: RuleEvent[]): void;
  /** False when nothing is shown (a replay writing events only): the drawing stage is left out. */
  draw: boolean;
}

export interface ProcessingStages {
  /** In the order a frame goes through them. */
  readonly list: readonly Stage[];
  readonly rules: RulesStage;
  /** Closes every stage: the rules hand out their closing events. */
  close(): void;
}

/** The stages between the decoder and the output, the same for a live run and a replay. */
export function createProcessingStages(o: ProcessingStagesOptions): ProcessingStages {
  const inference = createInferenceStage({
    store: o.store,
    detectorFor: o.detectorFor,
    initial: o.initialDetector ? { version: 0, detector: o.initialDetector } : undefined,
    concurrency: o.inferenceConcurrency,
  });
  const rules = createRulesStage(o);
  const list: Stage[] = [inference, rules];
  if (o.draw) list.push(createDrawingStage({ store: o.store, labels: o.labels, title: o.title }));
  return {
    list,
    rules,
    close: () => {
      for (const s of list) s.close();
    },
  };
}
