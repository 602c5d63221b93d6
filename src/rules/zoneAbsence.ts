/**
 * zone_absence: `started` when no watched object has been in the zone for min_seconds (counted from the first
 * frame the rule sees, or from the last object's leaving), `ended` as soon as one is inside again.
 */
import type { RuleConfig } from '../config/rules.js';
import { toPixels } from '../geometry.js';
import { objectFilter } from './objects.js';
import type { RuleRuntime, RuleSetup } from './types.js';
import { ConditionTimer, ZoneMembership } from './zoneState.js';

type ZoneAbsenceRule = Extract<RuleConfig, { type: 'zone_absence' }>;

export function createZoneAbsence(config: ZoneAbsenceRule, setup: RuleSetup): RuleRuntime {
  const zone = new ZoneMembership(toPixels(config.zone, setup.width, setup.height), objectFilter(config, setup.labels));
  const timer = new ConditionTimer(config.min_seconds);
  return {
    config,
    step(frame, emit) {
      zone.step(frame);
      const change = timer.step(zone.count === 0, frame.ptsS);
      if (change === 'started') {
        emit({ type: 'started', trackId: null, classId: null, box: null, extra: { seconds: timer.lastSeconds } });
      } else if (change === 'ended') {
        emit({ type: 'ended', trackId: null, classId: null, box: null, extra: { count: zone.count, seconds: timer.lastSeconds, reason: 'changed' }, highlight: zone.trackIds() });
      }
    },
    close(ptsS, reason, emit) {
      if (timer.end(ptsS)) emit({ type: 'ended', trackId: null, classId: null, box: null, extra: { count: zone.count, seconds: timer.lastSeconds, reason } });
      zone.drain();
    },
    counters: () => ({ type: 'zone_absence', occupancy: zone.count, active: timer.active }),
    stateSize: () => zone.count,
  };
}
