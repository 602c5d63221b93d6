/**
 * zone_absence: `started` when no watched object has been in the zone for min_seconds (counted from the first
 * frame the rule sees, or from the last object's leaving: its first frame outside, or its last sighting when
 * its track ended), `ended` as soon as one's entry is confirmed (enter_after_s): one stray box inside does not
 * end an absence. An object not yet confirmed inside does not count, also at the start of a run: a
 * min_seconds shorter than enter_after_s can start before someone already there is confirmed.
 */
import type { RuleConfig } from '../config/rules.js';
import { toPixels } from '../geometry.js';
import { objectFilter } from './objects.js';
import type { RuleRuntime, RuleSetup } from './types.js';
import { ConditionTimer, zoneMembershipOf } from './zoneState.js';

type ZoneAbsenceRule = Extract<RuleConfig, { type: 'zone_absence' }>;

export function createZoneAbsence(config: ZoneAbsenceRule, setup: RuleSetup): RuleRuntime {
  const zone = zoneMembershipOf(config, toPixels(config.zone, setup.width, setup.height), objectFilter(config, setup.labels));
  const timer = new ConditionTimer(config.min_seconds);
  return {
    config,
    step(frame, emit) {
      zone.step(frame);
      const change = timer.step(zone.count === 0, frame.ptsS, zone.unchangedSinceS);
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
    stateSize: () => zone.stateSize,
  };
}
