import { fromCallback, type EventObject } from 'xstate';
import { createRulesEngine, type RulesEngine } from '../rules/index.js';
import type { RuleEvent } from '../rules/events.js';
import { coerceError, toRunError } from '../errors.js';
import type { RunEvent } from '../machines/run.machine.js';
import type { LiveConfig } from './liveConfig.js';
import type { RunPipes } from './resources.js';

/**
 * The run's short-term memory for the rules: tracker, per-rule timers and counters. It belongs to the run,
 * not to a connection, so it survives reconnects of the source; it is bounded by the rules engine.
 */
export interface RulesHistory {
  engine: RulesEngine | undefined;
  /** The config version the engine was last configured with. */
  configVersion: number;
  framesSeen: number;
  lastFrame: { frameId: number; ptsS: number } | undefined;
}

export function newRulesHistory(): RulesHistory {
  return { engine: undefined, configVersion: -1, framesSeen: 0, lastFrame: undefined };
}

export interface RulesActorDeps {
  runId: string;
  clientId: string;
  /** Makes event ids unique across executions of the run (see RulesEngineOptions.idEpoch). */
  eventIdEpoch?: string;
  pipes: RunPipes;
  history: RulesHistory;
  config: LiveConfig;
  labels(): readonly string[];
  /** Hands events to the sinks; must not block (sinks queue and deliver on their own). */
  onEvents(events: RuleEvent[]): void;
}

/** inferred → filter, track, apply every rule → ruled. Events leave through onEvents. */
export function createRulesActor(deps: RulesActorDeps) {
  return fromCallback<EventObject>(({ sendBack }) => {
    let stopped = false;
    const h = deps.history;
    void (async () => {
      for (;;) {
        const frame = await deps.pipes.inferred.take();
        if (!frame || stopped) return;
        const t0 = performance.now();
        try {
          // One read of the live config per frame: the version and the body the frame is stamped with agree.
          const config = { version: deps.config.version, body: deps.config.body };
          const { inference, rules } = config.body;
          const filters = { min_area: inference.min_area, ignore_zones: inference.ignore_zones };
          if (!h.engine) {
            h.engine = createRulesEngine({
              runId: deps.runId,
              idEpoch: deps.eventIdEpoch,
              clientId: deps.clientId,
              rules,
              filters,
              labels: deps.labels(),
              width: frame.width,
              height: frame.height,
              startedAtMs: frame.arrivedAtMs,
              startPtsS: frame.ptsS,
            });
            h.configVersion = config.version;
          } else if (h.configVersion !== config.version) {
            h.engine.reconfigure(rules, filters);
            h.configVersion = config.version;
          }
          const out = h.engine.process({ frameId: frame.frameId, ptsS: frame.ptsS, detections: frame.detections });
          frame.detections = out.detections;
          frame.events = out.events;
          frame.triggered = out.triggered;
          frame.counters = h.engine.counters();
          frame.config = config;
          if (out.events.length > 0) deps.onEvents(out.events);
        } catch (err) {
          if (stopped) return;
          const e = coerceError(err);
          sendBack({ type: 'stage.failed', error: toRunError(e, { stage: 'rules', final: true }) } satisfies RunEvent);
          return;
        }
        h.framesSeen++;
        h.lastFrame = { frameId: frame.frameId, ptsS: frame.ptsS };
        frame.times.rulesMs = performance.now() - t0;
        deps.pipes.ruled.push(frame);
      }
    })();
    return () => {
      stopped = true;
    };
  });
}
