/**
 * line_crossing: a `cross` event, direction `in` or `out`, each time a tracked object's anchor goes from one
 * side of the segment to the other THROUGH the segment, and stays there.
 *
 * Counting errors users report with other tools, and what stops each here:
 * - jitter on the line double counts (supervision PR#1540): an anchor only has a side once it is at least
 *   `hysteresis` away from the line; inside that band the last firm side stays. Going back and forth within the
 *   band counts nothing, and a real crossing counts once;
 * - jitter wider than the band (a person standing on the line, a box whose bottom jumps with the legs), or a
 *   track that crosses and wobbles back within a fraction of a second: the new side must hold `cross_after_s`
 *   (seen on it, or in the band, on frames spanning that long, never firmly back on the old side between)
 *   before the crossing counts. A return before that cancels it: back and forth counts nothing, across, back
 *   and across again counts once. The event is dated on the first frame past the line (of the crossing that
 *   held), not on the frame that confirmed it. A track that ends while its crossing waits (it walked out of
 *   the picture, or the run stopped) counts: it was last seen across. A real turn-around takes longer than the
 *   default and counts both ways;
 * - the line acts as if infinite (supervision#210): the move from the last firm point on the old side to the
 *   first firm point on the new side must meet the segment itself, not its extension;
 * - untracked boxes share one id (supervision#2578): only tracked objects are seen (objects.ts);
 * - "in" changed meaning between versions (ultralytics#15697): it is fixed by the line's drawing order — from
 *   the LEFT of p1 → p2 to its RIGHT, as seen on the image (y down) — and documented in the schema.
 * An object first seen on the line (inside the band) gets a side once it leaves the band, without counting.
 */
import type { RuleConfig } from '../config/rules.js';
import type { CrossingDirection, Emit } from './events.js';
import { className } from './events.js';
import { crossesSegment, signedDistance, toPixels } from '../geometry.js';
import { objectFilter, observe } from './objects.js';
import type { RuleRuntime, RuleSetup } from './types.js';
import { TIME_EPS } from './zoneState.js';

type LineCrossingRule = Extract<RuleConfig, { type: 'line_crossing' }>;

/** A crossing through the segment, waiting for the new side to hold cross_after_s. */
interface Pending {
  direction: CrossingDirection;
  classId: number;
  /** The first frame past the line: where the event is dated, with the box there. */
  frameId: number;
  ptsS: number;
  box: [number, number, number, number];
}

interface Side {
  /** -1 = left of p1 → p2, +1 = right: the side the object is counted on. */
  side: -1 | 1;
  /** The latest anchor seen firmly on that side (pixels), or on the new side once a crossing counted. */
  x: number;
  y: number;
  pending?: Pending;
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

  function count(trackId: number, s: Side, emit: Emit) {
    const p = s.pending!;
    delete s.pending;
    s.side = p.direction === 'in' ? 1 : -1;
    const c = counts.get(p.classId) ?? { in: 0, out: 0 };
    c[p.direction]++;
    counts.set(p.classId, c);
    emit({ type: 'cross', trackId, classId: p.classId, direction: p.direction, box: p.box, extra: { count: c[p.direction] }, at: { frameId: p.frameId, ptsS: p.ptsS } });
  }

  return {
    config,
    step(frame, emit) {
      for (const id of frame.expired) {
        const s = sides.get(id);
        if (s?.pending) count(id, s, emit);
        sides.delete(id);
      }
      if (!frame.detections) return;
      for (const o of observe(frame.detections, filter)) {
        const d = signedDistance(ax, ay, bx, by, o.x, o.y);
        const prev = sides.get(o.trackId);
        const held = prev?.pending !== undefined && frame.ptsS - prev.pending.ptsS >= config.cross_after_s - TIME_EPS;
        // Within the band (or exactly on the line with no band): no firm side, keep the last one; not being
        // back on the old side, it lets a waiting crossing hold.
        if (Math.abs(d) < band || d === 0) {
          if (held) count(o.trackId, prev!, emit);
          continue;
        }
        const side: -1 | 1 = d > 0 ? 1 : -1;
        if (!prev) {
          sides.set(o.trackId, { side, x: o.x, y: o.y });
          continue;
        }
        if (side === prev.side) {
          // Back on the old side before the new one held: that crossing was a wobble.
          delete prev.pending;
        } else if (prev.pending) {
          if (held) count(o.trackId, prev, emit);
        } else if (crossesSegment(ax, ay, bx, by, prev.x, prev.y, o.x, o.y)) {
          prev.pending = { direction: prev.side < 0 ? 'in' : 'out', classId: o.classId, frameId: frame.frameId, ptsS: frame.ptsS, box: o.box };
          if (config.cross_after_s <= 0) count(o.trackId, prev, emit);
        } else {
          // Moving around the end of the segment changes the side without a count.
          prev.side = side;
        }
        // The point a next crossing is tested from: the latest firm one, on whichever side it is now.
        prev.x = o.x;
        prev.y = o.y;
      }
    },
    // A crossing is a moment: nothing open to end, but one waiting for its side to hold happened (last seen
    // across), so it counts. Sides go; counts belong to the rule and are dropped with it.
    close(_ptsS, _reason, emit) {
      for (const [id, s] of sides) if (s.pending) count(id, s, emit);
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
