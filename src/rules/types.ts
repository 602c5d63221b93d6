import type { Detections } from '../detections.js';
import type { RuleConfig } from '../config/rules.js';
import type { Emit } from './events.js';
import type { LeaveReason } from './zoneState.js';

/** One frame as a rule sees it. */
export interface RuleFrame {
  frameId: number;
  /** Source time, seconds; never decreases within an engine. */
  ptsS: number;
  /** Tracked detections of this frame; undefined on frames the detector skipped (time still advances). */
  detections: Detections | undefined;
  /** Track ids the tracker dropped since the previous frame: their per-track state must go, and open visits end. */
  expired: readonly number[];
}

/** Current counts, for dashboards and the drawing (zone fill, line counters). */
export type RuleCounters =
  | { type: 'line_crossing'; counts: Record<string, { in: number; out: number }> }
  | { type: 'zone_presence' | 'zone_dwell'; occupancy: number }
  | { type: 'zone_occupancy' | 'zone_absence'; occupancy: number; active: boolean };

/** One configured rule with its state. Each rule type's file exports a factory returning this. */
export interface RuleRuntime {
  readonly config: RuleConfig;
  step(frame: RuleFrame, emit: Emit): void;
  /** End everything still open (`leave` for objects inside, `ended` for an active condition). */
  close(ptsS: number, reason: LeaveReason, emit: Emit): void;
  counters(): RuleCounters;
  /** Entries of per-object state held (for tests of boundedness). */
  stateSize(): number;
}

/** Frame geometry and labels every rule factory needs. */
export interface RuleSetup {
  width: number;
  height: number;
  labels: readonly string[];
}
