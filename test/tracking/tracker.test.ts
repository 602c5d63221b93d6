import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createTracker } from '../../src/tracking/tracker.js';
import { boxAt, mockDetections } from './mockDetections.js';

const FPS = 30;

/** Feeds one box moving at (vx, vy) px/frame; `hidden(frame)` frames have no detection at all. */
function runStraight(frames: number, opts: { vx?: number; vy?: number; hidden?: (f: number) => boolean; conf?: (f: number) => number } = {}) {
  const tracker = createTracker();
  const ids: Array<number | undefined> = [];
  for (let f = 0; f < frames; f++) {
    const t = f / FPS;
    const box = boxAt(100 + f * (opts.vx ?? 5), 200 + f * (opts.vy ?? 0));
    const dets = opts.hidden?.(f) ? mockDetections([]) : mockDetections([{ box, conf: opts.conf?.(f) ?? 0.9 }]);
    const out = tracker.update(dets, t);
    ids.push(out.count > 0 ? out.trackId[0] : undefined);
  }
  return { tracker, ids };
}

describe('tracker', () => {
  it('a straight-moving box keeps its id', () => {
    const { ids } = runStraight(60);
    expect(new Set(ids)).toEqual(new Set([1]));
  });

  it('a walker moving most of its width between detections keeps its id (detection on every 3rd frame)', () => {
    // 10 fps camera, detection every 3rd frame: 0.3 s between detections, the 40 px wide box moves 30 px.
    const run = (distance: number) => {
      const tracker = createTracker({ distance_matching_threshold: distance });
      const ids = new Set<number>();
      for (let k = 0; k < 12; k++) {
        const t = k * 0.3;
        tracker.predict(t - 0.2);
        tracker.predict(t - 0.1);
        const out = tracker.update(mockDetections([{ box: boxAt(100 + k * 30, 200), conf: 0.6 }]), t);
        if (out.trackId[0]! >= 0) ids.add(out.trackId[0]!);
      }
      return ids.size;
    };
    expect(run(0.5)).toBe(1);
    expect(run(0)).toBeGreaterThan(1); // IoU alone (x score) loses it: why the distance pass exists
  });

  it('the same walker keeps its id when, half hidden, it scores only a weak detection (distance pass for weak boxes)', () => {
    // As above, but every 4th detection is weak (0.15: a passer-by hides half of it): IoU with the prediction
    // is too low for the weak pass's limit, the centre still lands within half a box height.
    const tracker = createTracker();
    const ids = new Set<number>();
    for (let k = 0; k < 12; k++) {
      const t = k * 0.3;
      const cx = 100 + k * 30;
      // The weak box is the visible left half: IoU 0.25 with the whole, its centre 10 px (1/8 height) off.
      const box = k % 4 === 3 ? boxAt(cx - 10, 200, 20, 80) : boxAt(cx, 200);
      const out = tracker.update(mockDetections([{ box, conf: k % 4 === 3 ? 0.15 : 0.6 }]), t);
      ids.add(out.trackId[0]!);
    }
    expect(ids).toEqual(new Set([1]));
  });

  it('distance matching does not steal a detection far away or of another class', () => {
    const tracker = createTracker();
    tracker.update(mockDetections([{ box: boxAt(100, 200) }]), 0);
    const far = tracker.update(mockDetections([{ box: boxAt(100 + 60, 200) }]), 0.3); // 0.75 box heights away
    expect(far.trackId[0]).not.toBe(1);
    const other = createTracker();
    other.update(mockDetections([{ box: boxAt(100, 200) }]), 0);
    expect(other.update(mockDetections([{ box: boxAt(125, 200), cls: 2 }]), 0.3).trackId[0]).not.toBe(1);
  });

  it('returns the same boxes in the same order, input untouched', () => {
    const tracker = createTracker();
    const input = mockDetections([{ box: [0, 0, 10, 10] }, { box: [50, 50, 70, 90], cls: 2 }]);
    const out = tracker.update(input, 0);
    expect(Array.from(out.xyxy)).toEqual(Array.from(input.xyxy));
    expect(Array.from(out.classId)).toEqual([0, 2]);
    expect(Array.from(out.trackId)).toEqual([1, 2]);
    expect(Array.from(input.trackId)).toEqual([-1, -1]);
  });

  // Occlusion of the moving box from frame 30 on; it reappears where its motion took it.
  it.each([
    { gapS: 0.5, sameId: true },
    { gapS: 0.8, sameId: true },
    { gapS: 1.0, sameId: true },
    { gapS: 1.2, sameId: false },
    { gapS: 2.0, sameId: false },
  ])('an occlusion of $gapS s keeps the id: $sameId', ({ gapS, sameId }) => {
    const gapFrames = Math.round(gapS * FPS);
    // Frames 30 .. 30+gapFrames-1 are hidden: the last sighting is frame 29, the next is 29 + gapFrames + 1,
    // so the time without a detection is (gapFrames + 1) / FPS; shorten by one frame to make the gap exact.
    const { ids } = runStraight(30 + gapFrames + 20, { hidden: (f) => f >= 30 && f < 29 + gapFrames });
    const after = ids[29 + gapFrames];
    expect(ids[29]).toBe(1);
    expect(after).toBe(sameId ? 1 : 2);
    expect(ids.at(-1)).toBe(after);
  });

  it('reports an expired track once, and never gives its id again', () => {
    const { tracker, ids } = runStraight(90, { hidden: (f) => f >= 30 && f < 80 });
    expect(ids[80]).toBe(2);
    expect(tracker.takeExpired()).toEqual([1]);
    expect(tracker.takeExpired()).toEqual([]);
  });

  it('two crossing objects keep their ids', () => {
    const tracker = createTracker();
    const seen: Array<[number, number]> = [];
    for (let f = 0; f < 60; f++) {
      const a = { box: boxAt(100 + 8 * f, 200), cls: 0 };
      const b = { box: boxAt(572 - 8 * f, 215), cls: 0 };
      // Alternate the order so the result cannot come from the input order.
      const flip = f % 2 === 1;
      const out = tracker.update(mockDetections(flip ? [b, a] : [a, b]), f / FPS);
      const [ia, ib] = flip ? [out.trackId[1]!, out.trackId[0]!] : [out.trackId[0]!, out.trackId[1]!];
      seen.push([ia, ib]);
    }
    expect(new Set(seen.map((s) => s[0]))).toEqual(new Set([1]));
    expect(new Set(seen.map((s) => s[1]))).toEqual(new Set([2]));
  });

  it('low-score detections extend a followed track', () => {
    const { ids } = runStraight(40, { conf: (f) => (f < 10 ? 0.9 : 0.15) });
    expect(new Set(ids)).toEqual(new Set([1]));
  });

  it('low-score detections never start a track', () => {
    const { ids, tracker } = runStraight(20, { conf: () => 0.15 });
    expect(new Set(ids)).toEqual(new Set([-1]));
    expect(tracker.size).toBe(0);
  });

  it('low-score detections do not revive a lost track', () => {
    const { ids } = runStraight(30, { conf: (f) => (f < 10 ? 0.9 : 0.15), hidden: (f) => f === 10 });
    expect(ids.slice(0, 10)).toEqual(Array(10).fill(1));
    expect(ids.slice(11)).toEqual(Array(19).fill(-1));
  });

  it('setActivationThreshold moves the line between confident and weak from the next update', () => {
    const tracker = createTracker();
    expect(tracker.update(mockDetections([{ box: boxAt(100, 200), conf: 0.4 }]), 0).trackId[0]).toBe(1);
    tracker.setActivationThreshold(0.5);
    expect(tracker.options.track_activation_threshold).toBe(0.5);
    // 0.4 is weak now: it still extends track 1 but starts nothing.
    const out = tracker.update(mockDetections([{ box: boxAt(102, 200), conf: 0.4 }, { box: boxAt(400, 200), conf: 0.4 }]), 0.1);
    expect(Array.from(out.trackId)).toEqual([1, -1]);
    expect(() => tracker.setActivationThreshold(2)).toThrow();
  });

  it('detections below low_score_threshold are ignored', () => {
    const { ids } = runStraight(20, { conf: (f) => (f < 10 ? 0.9 : 0.05) });
    expect(ids.slice(10)).toEqual(Array(10).fill(-1));
  });

  it('is class-aware: a box of another class in the same place gets its own track', () => {
    const tracker = createTracker();
    tracker.update(mockDetections([{ box: boxAt(100, 100), cls: 0 }]), 0);
    const out = tracker.update(mockDetections([{ box: boxAt(100, 100), cls: 1 }]), 1 / FPS);
    expect(out.trackId[0]).toBe(2);
    expect(Array.from(tracker.predict(2 / FPS).classId)).toEqual([1]);
  });

  it.each([
    { n: 1, expected: [1, 1, 1, 1] },
    { n: 2, expected: [-1, 1, 1, 1] },
    { n: 3, expected: [-1, -1, 1, 1] },
  ])('minimum_consecutive_frames=$n gives the id on the n-th match', ({ n, expected }) => {
    const tracker = createTracker({ minimum_consecutive_frames: n });
    const ids = [0, 1, 2, 3].map((f) => tracker.update(mockDetections([{ box: boxAt(100 + 4 * f, 100) }]), f / FPS).trackId[0]);
    expect(ids).toEqual(expected);
  });

  it('an unconfirmed track that misses a frame is dropped without burning an id', () => {
    const tracker = createTracker({ minimum_consecutive_frames: 2 });
    tracker.update(mockDetections([{ box: boxAt(100, 100) }]), 0);
    tracker.update(mockDetections([]), 1 / FPS);
    expect(tracker.size).toBe(0);
    const a = tracker.update(mockDetections([{ box: boxAt(300, 100) }]), 2 / FPS);
    const b = tracker.update(mockDetections([{ box: boxAt(300, 100) }]), 3 / FPS);
    expect([a.trackId[0], b.trackId[0]]).toEqual([-1, 1]);
    expect(tracker.takeExpired()).toEqual([]);
  });

  it('predict() moves boxes along their velocity', () => {
    const { tracker } = runStraight(20, { vx: 6, vy: -3 });
    const last = boxAt(100 + 19 * 6, 200 - 19 * 3);
    const p = tracker.predict(19 / FPS + 0.2);
    expect(p.count).toBe(1);
    expect(p.trackId[0]).toBe(1);
    // 0.2 s = 6 frames: +36 px in x, -18 px in y.
    expect(p.xyxy[0]! - last[0]).toBeCloseTo(36, -0.5);
    expect(p.xyxy[1]! - last[1]).toBeCloseTo(-18, -0.5);
    expect(p.xyxy[2]! - p.xyxy[0]!).toBeCloseTo(40, 0);
  });

  it('predict() does not commit: the next update still matches', () => {
    const tracker = createTracker();
    for (let f = 0; f < 10; f++) {
      tracker.update(mockDetections([{ box: boxAt(100 + 5 * f, 100) }]), f / 10);
      tracker.predict(f / 10 + 0.03);
      tracker.predict(f / 10 + 0.06);
    }
    expect(tracker.update(mockDetections([{ box: boxAt(150, 100) }]), 1).trackId[0]).toBe(1);
  });

  it('predict() shows neither lost nor unconfirmed tracks, and expires lost ones', () => {
    const tracker = createTracker({ minimum_consecutive_frames: 2 });
    tracker.update(mockDetections([{ box: boxAt(100, 100) }, { box: boxAt(400, 100) }]), 0);
    tracker.update(mockDetections([{ box: boxAt(100, 100) }, { box: boxAt(400, 100) }]), 0.1);
    tracker.update(mockDetections([{ box: boxAt(100, 100) }, { box: boxAt(700, 100) }]), 0.2);
    expect(Array.from(tracker.predict(0.25).trackId)).toEqual([1]);
    expect(tracker.takeExpired()).toEqual([]);
    tracker.predict(1.25);
    expect(tracker.takeExpired()).toEqual([2]);
  });

  it('caps the number of tracks: no newcomer while all are followed, else the longest-lost goes', () => {
    const tracker = createTracker({ max_tracks: 2 });
    tracker.update(mockDetections([{ box: boxAt(100, 100) }, { box: boxAt(300, 100) }]), 0);
    const full = tracker.update(mockDetections([{ box: boxAt(100, 100) }, { box: boxAt(300, 100) }, { box: boxAt(500, 100) }]), 0.1);
    expect(Array.from(full.trackId)).toEqual([1, 2, -1]);
    const evicting = tracker.update(mockDetections([{ box: boxAt(100, 100) }, { box: boxAt(500, 100) }]), 0.2);
    expect(Array.from(evicting.trackId)).toEqual([1, 3]);
    expect(tracker.size).toBe(2);
    expect(tracker.takeExpired()).toEqual([2]);
  });

  it('reset() drops tracks, reports them, and keeps ids unique', () => {
    const tracker = createTracker();
    tracker.update(mockDetections([{ box: boxAt(100, 100) }]), 5);
    tracker.reset();
    expect(tracker.takeExpired()).toEqual([1]);
    expect(tracker.update(mockDetections([{ box: boxAt(100, 100) }]), 0).trackId[0]).toBe(2);
  });

  it('a pts going backwards is treated as no time passing', () => {
    const tracker = createTracker();
    tracker.update(mockDetections([{ box: boxAt(100, 100) }]), 10);
    expect(tracker.update(mockDetections([{ box: boxAt(102, 100) }]), 3).trackId[0]).toBe(1);
    expect(tracker.update(mockDetections([{ box: boxAt(104, 100) }]), Number.NaN).trackId[0]).toBe(1);
  });

  it('ignores degenerate boxes', () => {
    const tracker = createTracker();
    const out = tracker.update(mockDetections([{ box: [10, 10, 10, 30] }, { box: [0, 0, Number.NaN, 5] }]), 0);
    expect(Array.from(out.trackId)).toEqual([-1, -1]);
    expect(tracker.size).toBe(0);
  });

  it('property: ids are unique per frame and never come back after they expired', () => {
    const frame = fc.array(
      fc.record({ x: fc.integer({ min: 0, max: 600 }), y: fc.integer({ min: 0, max: 400 }), conf: fc.double({ min: 0, max: 1, noNaN: true }), cls: fc.integer({ min: 0, max: 2 }) }),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(frame, fc.double({ min: 0, max: 0.7, noNaN: true })), { maxLength: 40 }), (script) => {
        const tracker = createTracker({ lost_track_buffer_s: 0.5, max_tracks: 10 });
        const gone = new Set<number>();
        let t = 0;
        let maxSeen = 0;
        for (const [rows, dt] of script) {
          t += dt;
          const out = tracker.update(mockDetections(rows.map((r) => ({ box: boxAt(r.x, r.y), conf: r.conf, cls: r.cls }))), t);
          const ids = Array.from(out.trackId).filter((id) => id >= 0);
          expect(new Set(ids).size).toBe(ids.length);
          for (const id of ids) {
            expect(gone.has(id)).toBe(false);
            maxSeen = Math.max(maxSeen, id);
          }
          for (const id of tracker.takeExpired()) gone.add(id);
          expect(tracker.size).toBeLessThanOrEqual(10);
        }
        expect(maxSeen).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 200 },
    );
  });
});
