/**
 * The rules stage's logic for one run: filter → track → every rule → events. Pure: time comes only from the
 * frames' pts and the run's start clock passed in, so the same input always gives the same detections, events
 * and ids (replays and tests rely on it). All state is bounded: per-track state goes when the tracker drops the
 * track, the tracker caps its tracks, counters are per class.
 */
import { selectDetections, type Detections } from '../detections.js';
import type { RuleConfig } from '../config/rules.js';
import { createTracker } from '../tracking/tracker.js';
import type { TrackerOptionsInput } from '../tracking/options.js';
import { makeEvent, type Emit, type EventContext, type RuleEvent } from './events.js';
import { createDetectionFilter, type DetectionFilters } from './filters.js';
import { createLineCrossing } from './lineCrossing.js';
import type { RuleCounters, RuleFrame, RuleRuntime, RuleSetup } from './types.js';
import { createZoneAbsence } from './zoneAbsence.js';
import { createZoneDwell } from './zoneDwell.js';
import { createZoneOccupancy } from './zoneOccupancy.js';
import { createZonePresence } from './zonePresence.js';
import type { LeaveReason } from './zoneState.js';

export interface RulesEngineOptions {
  runId: string;
  /** Part of every event id, so a run taken over by another engine never reuses an id (default none). */
  idEpoch?: string;
  clientId: string;
  rules: readonly RuleConfig[];
  /**
   * inference.min_area, inference.ignore_zones and inference.confidence. Confidence is the score at which a
   * detection is an object: it starts a track. Weaker ones (the detector hands them on down to the tracker's
   * low_score_threshold) only extend a track being followed, ByteTrack's second pass; unmatched, they go.
   */
  filters?: Partial<DetectionFilters>;
  /** The model's class names, indexed by class id. */
  labels: readonly string[];
  /** Source frame size in pixels: normalised geometry is resolved against it once. */
  width: number;
  height: number;
  tracker?: TrackerOptionsInput;
  /** Wall clock (ms since epoch) that `startPtsS` corresponds to; events' `time` = this + (pts − startPtsS). */
  startedAtMs: number;
  /** Defaults to the pts of the first frame processed. */
  startPtsS?: number;
}

export interface RulesInput {
  frameId: number;
  ptsS: number;
  /** The detector's output; undefined on frames it skipped (every_nth_frame > 1): tracks are carried forward. */
  detections?: Detections;
}

export interface RulesOutput {
  /** Filtered and tracked detections, or the predicted tracks on a frame without detection. */
  detections: Detections;
  events: RuleEvent[];
  /** Track ids that triggered an event on this frame, for highlighting. */
  triggered: Set<number>;
}

export interface RulesEngine {
  process(input: RulesInput): RulesOutput;
  /** Per rule id, in config order. */
  counters(): Record<string, RuleCounters>;
  /**
   * New rules and filters, applied from the next frame. A rule with the same id and a deep-equal config keeps its
   * state; a changed or removed one is closed on the next frame (its open `enter`/`started` get their
   * `leave`/`ended`, reason "reconfigured", a leave or a crossing waiting for its debounce is emitted as it
   * happened) and a changed one starts afresh. New `labels` (other class groups) change what every class id
   * means: then every rule starts afresh.
   */
  reconfigure(rules: readonly RuleConfig[], filters?: Partial<DetectionFilters>, labels?: readonly string[]): void;
  /** End of the run: ends everything still open (reason "stopped") on the given last frame. */
  finish(input: { frameId: number; ptsS: number }): RuleEvent[];
  /** Sizes of the state held, for tests of boundedness. */
  stateSize(): { tracks: number; retired: number; rules: Record<string, number> };
}

/** The runtime of one rule from its config (exported for the rule types' unit tests). */
export function createRule(config: RuleConfig, setup: RuleSetup): RuleRuntime {
  switch (config.type) {
    case 'zone_presence':
      return createZonePresence(config, setup);
    case 'zone_dwell':
      return createZoneDwell(config, setup);
    case 'line_crossing':
      return createLineCrossing(config, setup);
    case 'zone_occupancy':
      return createZoneOccupancy(config, setup);
    case 'zone_absence':
      return createZoneAbsence(config, setup);
  }
}

/** Structural equality of JSON-like values (parsed configs). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Weak boxes that extended no track are not objects: nothing downstream (rules, drawing) sees them. */
function dropUntrackedWeak(d: Detections, activation: number): Detections {
  for (let i = 0; i < d.count; i++) {
    if (d.trackId[i]! < 0 && d.confidence[i]! < activation) return selectDetections(d, (k) => d.trackId[k]! >= 0 || d.confidence[k]! >= activation);
  }
  return d;
}

export function createRulesEngine(opts: RulesEngineOptions): RulesEngine {
  let setup: RuleSetup = { width: opts.width, height: opts.height, labels: opts.labels };
  const activation = (f: Partial<DetectionFilters> | undefined) => f?.confidence ?? opts.tracker?.track_activation_threshold;
  const firstActivation = activation(opts.filters);
  const tracker = createTracker({ ...opts.tracker, ...(firstActivation !== undefined ? { track_activation_threshold: firstActivation } : {}) });
  let filter = createDetectionFilter(opts.filters ?? {}, opts.width, opts.height);
  let rules = opts.rules.map((r) => createRule(r, setup));
  /** Rules replaced or removed by reconfigure, closed on the next frame. */
  let retired: RuleRuntime[] = [];
  let seq = 0;
  let lastT: number | undefined;
  let startPtsS = opts.startPtsS;

  /** Time never runs backwards: a pts below the last one (or not a number) counts as the last one. */
  function clock(ptsS: number): number {
    const t = Number.isFinite(ptsS) ? Math.max(ptsS, lastT ?? ptsS) : (lastT ?? 0);
    lastT = t;
    startPtsS ??= t;
    return t;
  }

  function emitter(rule: RuleRuntime, frameId: number, t: number, events: RuleEvent[], triggered: Set<number>): Emit {
    const ctx: EventContext = { ...setup, runId: opts.runId, idEpoch: opts.idEpoch ?? '', clientId: opts.clientId, startedAtMs: opts.startedAtMs, startPtsS: startPtsS ?? t };
    return (draft) => {
      // A debounced event is dated on the frame it happened (never after this one: time only runs forward); the
      // frame that confirmed it, whose trace the event carries, goes in extra.
      const at = draft.at && draft.at.ptsS <= t ? draft.at : { frameId, ptsS: t };
      const dated = at.frameId === frameId ? draft : { ...draft, extra: { ...draft.extra, confirmed_frame_id: frameId } };
      events.push(makeEvent(ctx, rule.config.id, seq++, at.frameId, at.ptsS, dated));
      if (draft.trackId !== null) triggered.add(draft.trackId);
      for (const id of draft.highlight ?? []) triggered.add(id);
    };
  }

  function closeAll(list: readonly RuleRuntime[], frameId: number, t: number, reason: LeaveReason, events: RuleEvent[], triggered: Set<number>) {
    for (const r of list) r.close(t, reason, emitter(r, frameId, t, events, triggered));
  }

  return {
    process(input) {
      const t = clock(input.ptsS);
      const detected = input.detections !== undefined;
      const detections = input.detections ? dropUntrackedWeak(tracker.update(filter(input.detections), t), tracker.options.track_activation_threshold) : tracker.predict(t);
      const frame: RuleFrame = { frameId: input.frameId, ptsS: t, detections: detected ? detections : undefined, expired: tracker.takeExpired() };
      const events: RuleEvent[] = [];
      const triggered = new Set<number>();
      closeAll(retired, input.frameId, t, 'reconfigured', events, triggered);
      retired = [];
      for (const r of rules) r.step(frame, emitter(r, input.frameId, t, events, triggered));
      return { detections, events, triggered };
    },

    counters() {
      return Object.fromEntries(rules.map((r) => [r.config.id, r.counters()]));
    },

    reconfigure(next, filters, labels) {
      const relabelled = labels !== undefined && !deepEqual(labels, setup.labels);
      if (relabelled) setup = { ...setup, labels };
      const current = new Map(relabelled ? [] : rules.map((r) => [r.config.id, r]));
      if (relabelled) retired.push(...rules);
      rules = next.map((config) => {
        const kept = current.get(config.id);
        if (kept && deepEqual(kept.config, config)) {
          current.delete(config.id);
          return kept;
        }
        return createRule(config, setup);
      });
      retired.push(...current.values());
      if (filters) filter = createDetectionFilter(filters, opts.width, opts.height);
      const nextActivation = activation(filters);
      if (nextActivation !== undefined) tracker.setActivationThreshold(nextActivation);
    },

    finish(input) {
      const t = clock(input.ptsS);
      const events: RuleEvent[] = [];
      const triggered = new Set<number>();
      closeAll(retired, input.frameId, t, 'reconfigured', events, triggered);
      retired = [];
      closeAll(rules, input.frameId, t, 'stopped', events, triggered);
      return events;
    },

    stateSize() {
      return { tracks: tracker.size, retired: retired.length, rules: Object.fromEntries(rules.map((r) => [r.config.id, r.stateSize()])) };
    },
  };
}
