/**
 * zone_dwell: one `dwell` event per object and visit, on the first frame at which it has been inside for
 * min_seconds, counted from the visit's first frame inside. Checked on every frame, detector-skipped ones
 * included, so the event is not late by up to every_nth_frame frames. A new visit (after leaving) can fire
 * again; the zone's exit debounce keeps a flicker outside from making one.
 */
import type { RuleConfig } from '../config/rules.js';
import { toPixels } from '../geometry.js';
import { objectFilter } from './objects.js';
import type { RuleRuntime, RuleSetup } from './types.js';
import { roundSeconds, TIME_EPS, zoneMembershipOf } from './zoneState.js';

type ZoneDwellRule = Extract<RuleConfig, { type: 'zone_dwell' }>;

export function createZoneDwell(config: ZoneDwellRule, setup: RuleSetup): RuleRuntime {
  const zone = zoneMembershipOf(config, toPixels(config.zone, setup.width, setup.height), objectFilter(config, setup.labels));
  /** Tracks whose current visit already fired; a subset of the zone's members. */
  const fired = new Set<number>();
  return {
    config,
    step(frame, emit) {
      for (const c of zone.step(frame)) if (c.kind === 'leave') fired.delete(c.visit.trackId);
      for (const v of zone.visits()) {
        const seconds = frame.ptsS - v.sinceS;
        if (fired.has(v.trackId) || seconds < config.min_seconds - TIME_EPS) continue;
        fired.add(v.trackId);
        emit({ type: 'dwell', trackId: v.trackId, classId: v.classId, box: v.box, extra: { seconds: roundSeconds(seconds) } });
      }
    },
    // A dwell event is a moment, not a state: nothing is left open to end.
    close() {
      zone.drain();
      fired.clear();
    },
    counters: () => ({ type: 'zone_dwell', occupancy: zone.count }),
    stateSize: () => zone.stateSize + fired.size,
  };
}
