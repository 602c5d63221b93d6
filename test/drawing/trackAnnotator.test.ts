import { describe, expect, it } from 'vitest';
import { makeDetections, type Detections } from '../../src/detections.js';
import { Palette } from '../../src/drawing/palette.js';
import { createTrailAnnotator } from '../../src/drawing/trackAnnotator.js';
import { makeFrame, type GuardedFrame } from './helpers.js';

/** One box per [trackId, cx, bottom], 10 x 20 px, class 0. */
function dets(objs: [number, number, number][]): Detections {
  return makeDetections({
    xyxy: Float32Array.from(objs.flatMap(([, cx, bottom]) => [cx - 5, bottom - 20, cx + 5, bottom])),
    confidence: new Float32Array(objs.length).fill(0.9),
    classId: new Int32Array(objs.length),
    trackId: Int32Array.from(objs.map((o) => o[0])),
  });
}

const BG = 100;
/** How far the luma at (x, y) moved from the background. */
const ink = (f: GuardedFrame, x: number, y: number): number => Math.abs(f.pixels[y * f.width + x]! - BG);

describe('trail annotator', () => {
  it('follows the bottom-centre anchor and fades towards the oldest end', () => {
    const trails = createTrailAnnotator({ width: 240, height: 100, style: { length: 10, thickness: 4 } });
    const scratch = makeFrame(240, 100);
    for (let k = 0; k < 9; k++) trails.draw(scratch, dets([[7, 20 + 20 * k, 60]]));
    const f = makeFrame(240, 100);
    trails.draw(f, dets([[7, 200, 60]])); // 10th point: the trail spans x 20..200 along y = 60
    const along = [30, 50, 70, 90, 110, 130, 150, 170, 190].map((x) => ink(f, x, 60));
    for (let i = 1; i < along.length; i++) expect(along[i]!, `segment ${i} vs ${i - 1}: ${along.join(',')}`).toBeGreaterThan(along[i - 1]!);
    // Newest segment near full colour (90 % opacity); nothing off the anchor's path.
    const full = Math.abs(new Palette().forClass(0).fill.y - BG);
    expect(along[8]!).toBeGreaterThanOrEqual(Math.floor(full * 0.85));
    expect(ink(f, 110, 40)).toBe(0);
    expect(ink(f, 110, 66)).toBe(0);
  });

  it('is wider at higher resolutions and thins towards its oldest end', () => {
    /** Rows the trail covers at column x of a horizontal trail along y = cy. */
    const widthAt = (f: GuardedFrame, x: number, cy: number): number => {
      let n = 0;
      for (let y = cy - 20; y <= cy + 20; y++) if (ink(f, x, y) > 0) n++;
      return n;
    };
    const run = (W: number, H: number): { f: GuardedFrame; newest: number; oldest: number } => {
      const trails = createTrailAnnotator({ width: W, height: H, style: { length: 10 } });
      const scratch = makeFrame(W, H);
      for (let k = 0; k < 9; k++) trails.draw(scratch, dets([[7, 40 + 60 * k, 300]]));
      const f = makeFrame(W, H);
      trails.draw(f, dets([[7, 580, 300]]));
      return { f, newest: widthAt(f, 550, 300), oldest: widthAt(f, 70, 300) };
    };
    const small = run(768, 576);
    const big = run(1920, 1080);
    expect(small.newest).toBeGreaterThanOrEqual(4); // 576 / 140: not the 2 px of a box outline
    expect(big.newest).toBeGreaterThanOrEqual(7);
    expect(big.newest).toBeGreaterThan(small.newest);
    expect(big.oldest).toBeLessThan(big.newest);
    expect(big.oldest).toBeGreaterThan(0); // faded, still there
  });

  it('smooths the jitter of the anchors: a zig-zag of ±4 px draws as a nearly straight band', () => {
    const trails = createTrailAnnotator({ width: 400, height: 100, style: { length: 20, width: 2 } });
    const scratch = makeFrame(400, 100);
    for (let k = 0; k < 19; k++) trails.draw(scratch, dets([[7, 20 + 18 * k, 50 + (k % 2 === 0 ? 4 : -4)]]));
    const f = makeFrame(400, 100);
    trails.draw(f, dets([[7, 20 + 18 * 19, 46]]));
    // In the middle of the trail (far from both ends, where the window is whole), the ink stays within
    // ±2 px of the zig-zag's centre line, where the raw points swing 8 px.
    for (const x of [110, 150, 200, 240]) {
      for (let y = 0; y < 100; y++) if (ink(f, x, y) > 0) expect(Math.abs(y + 0.5 - 50), `ink at ${x},${y}`).toBeLessThanOrEqual(3);
    }
  });

  it('keeps only the last N points per track (bounded ring)', () => {
    const trails = createTrailAnnotator({ width: 300, height: 60, style: { length: 5, thickness: 2 } });
    const scratch = makeFrame(300, 60);
    for (let k = 0; k < 24; k++) trails.draw(scratch, dets([[1, 10 + 10 * k, 30]]));
    const f = makeFrame(300, 60);
    trails.draw(f, dets([[1, 250, 30]])); // points 210..250 remain
    expect(ink(f, 245, 29)).toBeGreaterThan(0);
    expect(ink(f, 215, 29)).toBeGreaterThan(0);
    for (let x = 0; x < 209; x++) expect(ink(f, x, 29), `x ${x}`).toBe(0);
  });

  it('caps the number of tracks, evicts tracks gone for a while, and restarts them fresh', () => {
    const trails = createTrailAnnotator({ width: 200, height: 200, style: { length: 8, maxTracks: 4, evictAfter: 3 } });
    const f = makeFrame(200, 200);
    trails.draw(f, dets([[1, 10, 20], [2, 30, 20], [3, 50, 20], [4, 70, 20], [5, 90, 20], [6, 110, 20]]));
    expect(trails.trackCount).toBe(4);
    for (let k = 0; k < 3; k++) trails.draw(f, dets([[1, 10, 30 + k]]));
    expect(trails.trackCount).toBe(4); // 2..4 unseen for exactly 3 frames: kept
    trails.draw(f, dets([[1, 10, 40]]));
    expect(trails.trackCount).toBe(1); // now gone longer than evictAfter
    // Track 2 comes back far away: its old point was forgotten, so no segment jumps across the frame.
    const back = makeFrame(200, 200);
    trails.draw(back, dets([[2, 150, 180]]));
    for (let x = 31; x < 149; x++) expect(ink(back, x, 100), `x ${x}`).toBe(0);
  });

  it('draws only tracks present in this frame, ignores untracked boxes, never writes outside', () => {
    const trails = createTrailAnnotator({ width: 31, height: 17, style: { length: 4 } });
    const f = makeFrame(31, 17);
    const moves: [number, number, number][][] = [
      [[1, -50, -10], [2, 5, 40], [-1, 10, 10]],
      [[1, 60, 30], [2, 15, 8], [-1, 12, 12]],
      [[1, 20, 16]],
    ];
    for (const m of moves) trails.draw(f, dets(m));
    trails.draw(f, makeDetections({
      xyxy: Float32Array.of(Number.NaN, 0, 1, 1, 0, 0, Infinity, 3),
      confidence: Float32Array.of(1, 1),
      classId: Int32Array.of(0, 0),
      trackId: Int32Array.of(9, 10),
    }));
    expect(f.guardsIntact()).toBe(true);
    trails.reset();
    expect(trails.trackCount).toBe(0);
  });
});
