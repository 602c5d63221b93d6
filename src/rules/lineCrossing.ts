/**
 * line_crossing: a `cross` event, direction `in` or `out`, each time a tracked object's anchor goes from one
 * side of the segment to the other THROUGH the segment.
 *
 * Counting errors users report with other tools, and what stops each here:
 * - jitter on the line double counts (supervision PR#1540): an anchor only has a side once it is at least
 *   `hysteresis` away from the line; inside that band the last firm side stays. Going back and forth within the
 *   band counts nothing, and a real crossing counts once;
 * - the line acts as if infinite (supervision#210): the move from the last firm point on the old side to the
 *   first firm point on the new side must meet the segment itself, not its extension;
 * - untracked boxes share one id (supervision#2578): only tracked objects are seen (objects.ts);
 * - "in" changed meaning between versions (ultralytics#15697): it is fixed by the line's drawing order — from
 *   the LEFT of p1 → p2 to its RIGHT, as seen on the image (y down) — and documented in the schema.
 * An object first seen on the line (inside the band) gets a side once it leaves the band, without counting.
 */
import type { RuleConfig } from '../config/rules.js';
import type { CrossingDirection } from './events.js';
import { className } from './events.js';
import { crossesSegment, signedDistance, toPixels } from '../geometry.js';
import { objectFilter, observe } from './objects.js';
import type { RuleRuntime, RuleSetup } from './types.js';

type LineCrossingRule = Extract<RuleConfig, { type: 'line_crossing' }>;

interface Side {
  /** -1 = left of p1 → p2, +1 = right. */
  side: -1 | 1;
  /** The latest anchor seen firmly on that side (pixels). */
  x: number;
  y: number;
}

export function createLineCrossing(config: LineCrossingRule, setup: RuleSetup): RuleRuntime {
  const filter = objectFilter(config, setup.labels);
  const line = toPixels(config.line, setup.width, setup.height);
  const [ax, ay, bx, by] = [line[0]!, line[1]!, line[2]!, line[3]!];
  const band = config.hysteresis * Math.min(setup.width, setup.height);
  /** Per track; removed when the track expires, so bounded by the tracker's cap. */
  const sides = new Map<number, Side>();
  /** Per class id; bounded by the model's classes. */
  const counts = new Map<number, { in: number; out: number }>();

  return {
    config,
    step(frame, emit) {
      for (const id of frame.expired) sides.delete(id);
      if (!frame.detections) return;
      for (const o of observe(frame.detections, filter)) {
        const d = signedDistance(ax, ay, bx, by, o.x, o.y);
        // Within the band (or exactly on the line with no band): no firm side, keep the last one.
        if (Math.abs(d) < band || d === 0) continue;
        const side: -1 | 1 = d > 0 ? 1 : -1;
        const prev = sides.get(o.trackId);
        if (prev && prev.side !== side && crossesSegment(ax, ay, bx, by, prev.x, prev.y, o.x, o.y)) {
          const direction: CrossingDirection = prev.side < 0 ? 'in' : 'out';
          const c = counts.get(o.classId) ?? { in: 0, out: 0 };
          c[direction]++;
          counts.set(o.classId, c);
          emit({ type: 'cross', trackId: o.trackId, classId: o.classId, direction, box: o.box, extra: { count: c[direction] } });
        }
        // Moving around the end of the segment changes the side without a count.
        if (prev) {
          prev.side = side;
          prev.x = o.x;
          prev.y = o.y;
        } else {
          sides.set(o.trackId, { side, x: o.x, y: o.y });
        }
      }
    },
    // A crossing is a moment: nothing open to end. Sides go; counts belong to the rule and are dropped with it.
    close() {
      sides.clear();
    },
    counters() {
      const out: Record<string, { in: number; out: number }> = {};
      for (const [classId, c] of [...counts].sort((p, q) => p[0] - q[0])) out[className(setup.labels, classId)] = { ...c };
      return { type: 'line_crossing', counts: out };
    },
    stateSize: () => sides.size,
  };
}
