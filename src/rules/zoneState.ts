/**
 * State shared by the zone rules: which tracked objects are inside a zone, and a timer for "a condition has
 * held N seconds". Both are driven only by the frames' pts.
 */
import { pointInPolygon } from '../geometry.js';
import { observe, type ObjectFilter } from './objects.js';
import type { RuleFrame } from './types.js';

/** Float tolerance for "has held N seconds" (pts are sums of float frame durations). */
export const TIME_EPS = 1e-6;

/** Seconds rounded to the millisecond for event payloads (same digits on every run). */
export function roundSeconds(s: number): number {
  return Math.round(s * 1000) / 1000;
}

export interface Visit {
  readonly trackId: number;
  readonly classId: number;
  /** Latest box seen inside (pixels). */
  box: [number, number, number, number];
  /** pts at which the object entered. */
  readonly sinceS: number;
}

export type LeaveReason = 'left' | 'expired' | 'reconfigured' | 'stopped';

export type ZoneChange = { kind: 'enter'; visit: Visit } | { kind: 'leave'; visit: Visit; reason: LeaveReason };

/**
 * Objects inside one zone. Only objects inside hold state, so memory is bounded by what the zone contains.
 * An object not seen on a frame (missed detection, skipped frame, filtered out) keeps its membership until it is
 * seen outside or its track expires: a flickering detection does not make it leave and re-enter.
 */
export class ZoneMembership {
  private readonly inside = new Map<number, Visit>();

  constructor(
    private readonly polygon: Float64Array,
    private readonly filter: ObjectFilter,
  ) {}

  get count(): number {
    return this.inside.size;
  }

  trackIds(): number[] {
    return [...this.inside.keys()];
  }

  visits(): IterableIterator<Visit> {
    return this.inside.values();
  }

  /** Changes on this frame, in detection order, then expiries. */
  step(frame: RuleFrame): ZoneChange[] {
    const changes: ZoneChange[] = [];
    if (frame.detections) {
      for (const o of observe(frame.detections, this.filter)) {
        const visit = this.inside.get(o.trackId);
        const isIn = pointInPolygon(o.x, o.y, this.polygon);
        if (isIn && !visit) {
          const v: Visit = { trackId: o.trackId, classId: o.classId, box: o.box, sinceS: frame.ptsS };
          this.inside.set(o.trackId, v);
          changes.push({ kind: 'enter', visit: v });
        } else if (visit && isIn) {
          visit.box = o.box;
        } else if (visit) {
          this.inside.delete(o.trackId);
          changes.push({ kind: 'leave', visit: { ...visit, box: o.box }, reason: 'left' });
        }
      }
    }
    for (const id of frame.expired) {
      const visit = this.inside.get(id);
      if (!visit) continue;
      this.inside.delete(id);
      changes.push({ kind: 'leave', visit, reason: 'expired' });
    }
    return changes;
  }

  /** Everyone leaves (rule closed); returns the visits that were open. */
  drain(): Visit[] {
    const all = [...this.inside.values()];
    this.inside.clear();
    return all;
  }
}

/**
 * "The condition has held for minSeconds" → started; "it no longer holds" → ended. Ending is immediate: the
 * question users ask is when the situation stopped, and a `started` always gets its `ended`.
 */
export class ConditionTimer {
  private holdingSince: number | undefined;
  private activeSince: number | undefined;

  constructor(private readonly minSeconds: number) {}

  get active(): boolean {
    return this.activeSince !== undefined;
  }

  /** Seconds the condition had held when it started, or has been active when it ended. */
  lastSeconds = 0;

  step(holds: boolean, t: number): 'started' | 'ended' | undefined {
    if (!holds) {
      this.holdingSince = undefined;
      return this.end(t) ? 'ended' : undefined;
    }
    this.holdingSince ??= t;
    if (this.activeSince === undefined && t - this.holdingSince >= this.minSeconds - TIME_EPS) {
      this.activeSince = t;
      this.lastSeconds = roundSeconds(t - this.holdingSince);
      return 'started';
    }
    return undefined;
  }

  /** Ends an active condition (also used when the rule is closed); true when there was one. */
  end(t: number): boolean {
    if (this.activeSince === undefined) return false;
    this.lastSeconds = roundSeconds(t - this.activeSince);
    this.activeSince = undefined;
    return true;
  }
}
