import { createRulesEngine, type RulesEngine } from '../../rules/index.js';
import type { RuleEvent } from '../../rules/index.js';
import type { RuleCounters } from '../../rules/index.js';
import type { AppliedConfig, FrameRecord } from '../../frame.js';
import type { Stage } from '../stage.js';
import { outputLabels } from '../../inference/classGroups.js';

export interface RulesStageOptions {
  runId: string;
  clientId: string;
  /** Makes event ids unique across executions of the run (see RulesEngineOptions.idEpoch). */
  eventIdEpoch?: string;
  /** The model's labels; a config's class groups add to them (outputLabels). */
  labels: readonly string[];
  /** Wall time of the run's first frame; the frame's arrival when absent. Replay fixes it so events repeat. */
  startedAtMs?: number;
  /** Hands events to the sinks; must not block (sinks queue and deliver on their own). */
  onEvents(events: RuleEvent[]): void;
}

export interface RulesStage extends Stage {
  /** Rule counters now (undefined before the first frame). */
  counters(): Record<string, RuleCounters> | undefined;
}

const filtersOf = (config: AppliedConfig) => ({ min_area: config.body.inference.min_area, ignore_zones: config.body.inference.ignore_zones });

/**
 * Filters, tracks and applies every rule. It owns the run's short-term memory (tracker, per-rule timers and
 * counters), which belongs to the run, not to a connection: it survives reconnects of the source and is
 * bounded by the rules engine. Closing the stage closes what is still open (every enter gets its leave).
 */
export function createRulesStage(o: RulesStageOptions): RulesStage {
  let engine: RulesEngine | undefined;
  let lastFrame: { frameId: number; ptsS: number } | undefined;
  return {
    name: 'rules',
    reconfigure(config, frame) {
      const labels = outputLabels(o.labels, config.body.inference.class_groups);
      if (engine) {
        engine.reconfigure(config.body.rules, filtersOf(config), labels);
        return;
      }
      engine = createRulesEngine({
        runId: o.runId,
        idEpoch: o.eventIdEpoch,
        clientId: o.clientId,
        rules: config.body.rules,
        filters: filtersOf(config),
        labels,
        width: frame.width,
        height: frame.height,
        startedAtMs: o.startedAtMs ?? frame.arrivedAtMs,
        startPtsS: frame.ptsS,
      });
    },
    process(frame: FrameRecord) {
      const out = engine!.process({ frameId: frame.frameId, ptsS: frame.ptsS, detections: frame.detections });
      frame.detections = out.detections;
      frame.events = out.events;
      frame.triggered = out.triggered;
      frame.counters = engine!.counters();
      lastFrame = { frameId: frame.frameId, ptsS: frame.ptsS };
      if (frame.trace) {
        for (const e of out.events) {
          e.trace_id = frame.trace.traceId;
          e.span_id = frame.trace.spanId;
        }
      }
      if (out.events.length > 0) o.onEvents(out.events);
    },
    close() {
      if (!engine || !lastFrame) return;
      const closing = engine.finish(lastFrame);
      lastFrame = undefined;
      if (closing.length > 0) o.onEvents(closing);
    },
    counters: () => engine?.counters(),
  };
}
