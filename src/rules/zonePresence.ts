/**
 * zone_presence: `enter` when an object's anchor enters the zone, `leave` when it leaves or its track ends, with
 * the zone's entry and exit debounce (zoneState.ts). Each event is dated where the change happened — `enter`
 * on the first frame inside, `leave` on the first frame outside — and emitted on the frame that confirms it.
 */
import type { RuleConfig } from '../config/rules.js';
import type { Emit } from './events.js';
import { toPixels } from '../geometry.js';
import { objectFilter } from './objects.js';
import type { RuleRuntime, RuleSetup } from './types.js';
import { dated, roundSeconds, zoneMembershipOf, type LeaveReason, type Sighting, type Visit } from './zoneState.js';

type ZonePresenceRule = Extract<RuleConfig, { type: 'zone_presence' }>;

export function createZonePresence(config: ZonePresenceRule, setup: RuleSetup): RuleRuntime {
  const zone = zoneMembershipOf(config, toPixels(config.zone, setup.width, setup.height), objectFilter(config, setup.labels));
  /** `at` = where the leave happened; undefined = now (the rule is closed on this frame). */
  const leave = (emit: Emit, v: Visit, t: number, reason: LeaveReason, at?: Sighting) => {
    const box = at?.box ?? v.box;
    const extra = { seconds: roundSeconds((at?.ptsS ?? t) - v.sinceS), reason };
    const draft = { type: 'leave', trackId: v.trackId, classId: v.classId, box, extra } as const;
    emit(at ? { ...draft, at: dated(at) } : draft);
  };
  return {
    config,
    step(frame, emit) {
      for (const c of zone.step(frame)) {
        if (c.kind === 'enter') emit({ type: 'enter', trackId: c.visit.trackId, classId: c.visit.classId, box: c.visit.entered.box, extra: {}, at: dated(c.visit.entered) });
        else leave(emit, c.visit, frame.ptsS, c.reason, c.at);
      }
    },
    close(ptsS, reason, emit) {
      // A leave waiting for its confirmation is the leave: the object was last seen outside.
      for (const { visit, outside } of zone.drain()) {
        if (outside) leave(emit, visit, ptsS, 'left', outside);
        else leave(emit, visit, ptsS, reason);
      }
    },
    counters: () => ({ type: 'zone_presence', occupancy: zone.count }),
    stateSize: () => zone.stateSize,
  };
}
