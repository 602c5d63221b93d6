/** zone_presence: `enter` when an object's anchor enters the zone, `leave` when it leaves or its track ends. */
import type { RuleConfig } from '../config/rules.js';
import type { Emit } from './events.js';
import { toPixels } from '../geometry.js';
import { objectFilter } from './objects.js';
import type { RuleRuntime, RuleSetup } from './types.js';
import { roundSeconds, ZoneMembership, type LeaveReason, type Visit } from './zoneState.js';

type ZonePresenceRule = Extract<RuleConfig, { type: 'zone_presence' }>;

export function createZonePresence(config: ZonePresenceRule, setup: RuleSetup): RuleRuntime {
  const zone = new ZoneMembership(toPixels(config.zone, setup.width, setup.height), objectFilter(config, setup.labels));
  const leave = (emit: Emit, v: Visit, t: number, reason: LeaveReason) =>
    emit({ type: 'leave', trackId: v.trackId, classId: v.classId, box: v.box, extra: { seconds: roundSeconds(t - v.sinceS), reason } });
  return {
    config,
    step(frame, emit) {
      for (const c of zone.step(frame)) {
        if (c.kind === 'enter') emit({ type: 'enter', trackId: c.visit.trackId, classId: c.visit.classId, box: c.visit.box, extra: {} });
        else leave(emit, c.visit, frame.ptsS, c.reason);
      }
    },
    close(ptsS, reason, emit) {
      for (const v of zone.drain()) leave(emit, v, ptsS, reason);
    },
    counters: () => ({ type: 'zone_presence', occupancy: zone.count }),
    stateSize: () => zone.count,
  };
}
