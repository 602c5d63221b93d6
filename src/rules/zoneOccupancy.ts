/**
 * zone_occupancy: the zone holds at least min_count (or at most max_count) watched objects. `started` once the
 * condition has held min_seconds, `ended` on the first frame it no longer holds. Objects count from their
 * confirmed entry to their confirmed exit (the zone's debounce) or their track's end: a missed detection or a
 * flicker across the edge does not change the count for a frame. The wait counts from the moment the entry
 * or exit that made the condition hold happened, not from its confirmation.
 */
import type { RuleConfig } from '../config/rules.js';
import { toPixels } from '../geometry.js';
import { objectFilter } from './objects.js';
import type { RuleRuntime, RuleSetup } from './types.js';
import { ConditionTimer, zoneMembershipOf } from './zoneState.js';

type ZoneOccupancyRule = Extract<RuleConfig, { type: 'zone_occupancy' }>;

export function createZoneOccupancy(config: ZoneOccupancyRule, setup: RuleSetup): RuleRuntime {
  const zone = zoneMembershipOf(config, toPixels(config.zone, setup.width, setup.height), objectFilter(config, setup.labels));
  const timer = new ConditionTimer(config.min_seconds);
  const holds = (n: number) => (config.min_count !== undefined ? n >= config.min_count : n <= (config.max_count ?? 0));
  const limit = config.min_count !== undefined ? { min_count: config.min_count } : { max_count: config.max_count };
  return {
    config,
    step(frame, emit) {
      zone.step(frame);
      const count = zone.count;
      const change = timer.step(holds(count), frame.ptsS, zone.unchangedSinceS);
      if (change === 'started') {
        emit({ type: 'started', trackId: null, classId: null, box: null, extra: { count, ...limit, seconds: timer.lastSeconds }, highlight: zone.trackIds() });
      } else if (change === 'ended') {
        emit({ type: 'ended', trackId: null, classId: null, box: null, extra: { count, ...limit, seconds: timer.lastSeconds, reason: 'changed' } });
      }
    },
    close(ptsS, reason, emit) {
      if (timer.end(ptsS)) emit({ type: 'ended', trackId: null, classId: null, box: null, extra: { count: zone.count, ...limit, seconds: timer.lastSeconds, reason } });
      zone.drain();
    },
    counters: () => ({ type: 'zone_occupancy', occupancy: zone.count, active: timer.active }),
    stateSize: () => zone.stateSize,
  };
}
