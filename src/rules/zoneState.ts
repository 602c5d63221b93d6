/**
 * State shared by the zone rules: which tracked objects are inside a zone (with entry and exit debounce), and a
 * timer for "a condition has held N seconds". Both are driven only by the frames' pts.
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

type Box = [number, number, number, number];

/** One frame on which an object was seen: where an event that happened then is dated. */
export interface Sighting {
  readonly frameId: number;
  readonly ptsS: number;
  /** The object's box on that frame (pixels). */
  readonly box: Box;
}

/** A sighting as an event's date (EventDraft.at). */
export function dated(s: Sighting): { frameId: number; ptsS: number } {
  return { frameId: s.frameId, ptsS: s.ptsS };
}

export interface Visit {
  readonly trackId: number;
  readonly classId: number;
  /** Latest box seen inside (pixels). */
  box: [number, number, number, number];
  /** The first frame seen inside: the visit's start, also when the entry was confirmed later. */
  readonly entered: Sighting;
  /** pts of `entered`; dwell times count from it. */
  readonly sinceS: number;
  /** The latest frame seen inside. */
  lastInside: Sighting;
}

export type LeaveReason = 'left' | 'expired' | 'reconfigured' | 'stopped';

/**
 * `enter` happened at `visit.entered`; `leave` at `at`: the first frame seen outside (reason left), or the
 * last frame seen inside (reason expired). Both are reported on the frame that confirmed them, later.
 */
export type ZoneChange = { kind: 'enter'; visit: Visit } | { kind: 'leave'; visit: Visit; reason: LeaveReason; at: Sighting };

/** pts at which a change happened (not the frame that confirmed it). */
export function changedAt(c: ZoneChange): number {
  return c.kind === 'enter' ? c.visit.sinceS : c.at.ptsS;
}

/** Entry and exit debounce, seconds of source time (the rules' enter_after_s and leave_after_s). */
export interface ZoneDebounce {
  enterAfterS: number;
  leaveAfterS: number;
}

interface Member extends Visit {
  /** Seen outside since this frame, not seen inside since: a leave waiting for confirmation. */
  outside?: Sighting;
}

/**
 * Objects inside one zone, with inertia both ways (what Frigate calls zone inertia):
 * - an object becomes a member once its anchor has been seen inside on detection frames spanning at least
 *   enterAfterS (its first and latest sightings inside that far apart) with no sighting outside between;
 * - a member leaves once seen outside on frames spanning leaveAfterS with no sighting inside between, or when
 *   its track expires.
 * Sightings, not frames or wall time: the same seconds hold whatever the camera's rate and every_nth_frame,
 * and any value above 0 needs at least two detector frames, so one stray box never enters or leaves. An object
 * not seen on a frame (missed detection, skipped frame, filtered out) changes nothing: it keeps what it has
 * until seen again or its track expires. 0 for both gives no debounce (in or out on the first frame).
 * Only objects seen inside hold state, so memory is bounded by what the zone contains (and its edge).
 */
export class ZoneMembership {
  private readonly inside = new Map<number, Member>();
  /** Seen inside, not yet long enough: the first frame inside, for the visit's start. */
  private readonly entering = new Map<number, { classId: number; first: Sighting }>();
  private lastChangeS: number | undefined;

  constructor(
    private readonly polygon: Float64Array,
    private readonly filter: ObjectFilter,
    private readonly debounce: ZoneDebounce = { enterAfterS: 0, leaveAfterS: 0 },
  ) {}

  /** Members: objects whose entry is confirmed and whose leave is not. */
  get count(): number {
    return this.inside.size;
  }

  trackIds(): number[] {
    return [...this.inside.keys()];
  }

  visits(): IterableIterator<Visit> {
    return this.inside.values();
  }

  /**
   * pts of the latest entry or exit confirmed so far, dated where it happened (undefined before the first): the
   * count has not changed since, so a condition on it that starts to hold now has held since then.
   */
  get unchangedSinceS(): number | undefined {
    return this.lastChangeS;
  }

  /** Entries of per-object state: members and objects waiting to enter. */
  get stateSize(): number {
    return this.inside.size + this.entering.size;
  }

  /** Changes confirmed on this frame, in detection order, then expiries. */
  step(frame: RuleFrame): ZoneChange[] {
    const changes: ZoneChange[] = [];
    const held = (since: Sighting, s: number) => frame.ptsS - since.ptsS >= s - TIME_EPS;
    if (frame.detections) {
      for (const o of observe(frame.detections, this.filter)) {
        const seen: Sighting = { frameId: frame.frameId, ptsS: frame.ptsS, box: o.box };
        const member = this.inside.get(o.trackId);
        const isIn = pointInPolygon(o.x, o.y, this.polygon);
        if (member && isIn) {
          member.box = o.box;
          member.lastInside = seen;
          delete member.outside;
        } else if (member) {
          member.outside ??= seen;
          if (held(member.outside, this.debounce.leaveAfterS)) {
            this.inside.delete(o.trackId);
            changes.push({ kind: 'leave', visit: { ...member, box: member.outside.box }, reason: 'left', at: member.outside });
          }
        } else if (isIn) {
          const pending = this.entering.get(o.trackId) ?? { classId: o.classId, first: seen };
          if (held(pending.first, this.debounce.enterAfterS)) {
            this.entering.delete(o.trackId);
            const v: Member = { trackId: o.trackId, classId: pending.classId, box: o.box, entered: pending.first, sinceS: pending.first.ptsS, lastInside: seen };
            this.inside.set(o.trackId, v);
            changes.push({ kind: 'enter', visit: v });
          } else {
            this.entering.set(o.trackId, pending);
          }
        } else {
          this.entering.delete(o.trackId);
        }
      }
    }
    for (const id of frame.expired) {
      this.entering.delete(id);
      const member = this.inside.get(id);
      if (!member) continue;
      this.inside.delete(id);
      // Last seen outside: it left then. Else it vanished inside: the last sighting is when it was last there.
      if (member.outside) changes.push({ kind: 'leave', visit: { ...member, box: member.outside.box }, reason: 'left', at: member.outside });
      else changes.push({ kind: 'leave', visit: member, reason: 'expired', at: member.lastInside });
    }
    for (const c of changes) this.lastChangeS = Math.max(this.lastChangeS ?? -Infinity, changedAt(c));
    return changes;
  }

  /** Everyone leaves (rule closed); returns the visits that were open, each with the leave it was waiting for
   *  to confirm, if any. Objects still waiting to enter never entered. */
  drain(): Array<{ visit: Visit; outside?: Sighting }> {
    const all = [...this.inside.values()].map((m) => (m.outside ? { visit: m, outside: m.outside } : { visit: m }));
    this.inside.clear();
    this.entering.clear();
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
  /** When the last active period ended: a new one never counts time from before it. */
  private endedAt = -Infinity;

  constructor(private readonly minSeconds: number) {}

  get active(): boolean {
    return this.activeSince !== undefined;
  }

  /** Seconds the condition had held when it started, or has been active when it ended. */
  lastSeconds = 0;

  /**
   * `since`: when the condition became true if that was before `t` — a zone's debounced change is confirmed
   * after it happened (an object seen outside since 2 s ago is confirmed gone now: the zone has been empty
   * for 2 s, not 0). Only read on the frame the condition starts to hold.
   */
  step(holds: boolean, t: number, since?: number): 'started' | 'ended' | undefined {
    if (!holds) {
      this.holdingSince = undefined;
      return this.end(t) ? 'ended' : undefined;
    }
    this.holdingSince ??= Math.max(Math.min(since ?? t, t), this.endedAt);
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
    this.endedAt = t;
    return true;
  }
}


/** A zone rule's membership with its configured debounce. */
export function zoneMembershipOf(config: { enter_after_s: number; leave_after_s: number }, polygon: Float64Array, filter: ObjectFilter): ZoneMembership {
  return new ZoneMembership(polygon, filter, { enterAfterS: config.enter_after_s, leaveAfterS: config.leave_after_s });
}
