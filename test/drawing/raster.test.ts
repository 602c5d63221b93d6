import { describe, expect, it } from 'vitest';
import { drawPolyline, drawSegment, fillDisc, fillPolygon } from '../../src/drawing/raster.js';
import { readYuv, rgbToYuv } from '../../src/drawing/yuv.js';
import { changedChroma, changedLuma, copyFrame, expectedSets, insidePoly, makeFrame } from './helpers.js';

const red = rgbToYuv(255, 0, 0);

function expectExactFill(w: number, h: number, poly: number[], label: string): void {
  const f = makeFrame(w, h);
  const before = copyFrame(f);
  fillPolygon(f, Float64Array.from(poly), poly.length / 2, red);
  const want = expectedSets(w, h, (x, y) => insidePoly(x + 0.5, y + 0.5, poly));
  expect(changedLuma(before, f), `luma ${label}`).toEqual(want.luma);
  expect(changedChroma(before, f), `chroma ${label}`).toEqual(want.chroma);
  expect(f.guardsIntact(), `guards ${label}`).toBe(true);
}

describe('fillPolygon', () => {
  it('fills exactly the pixels whose centre is inside a convex polygon', () => {
    expectExactFill(40, 30, [5, 3, 33, 8, 28, 26, 7, 20], 'quad');
  });

  it('leaves the notch of a concave polygon untouched', () => {
    // A "U": two arms joined at the bottom; the notch between them must stay as it was.
    const u = [4, 4, 12, 4, 12, 20, 24, 20, 24, 4, 32, 4, 32, 28, 4, 28];
    expectExactFill(40, 32, u, 'U');
    const f = makeFrame(40, 32);
    fillPolygon(f, Float64Array.from(u), 8, red);
    expect(readYuv(f, 18, 10).y).toBe(100); // inside the notch
    expect(readYuv(f, 8, 10)).toEqual(red); // left arm
    expect(readYuv(f, 28, 10)).toEqual(red); // right arm
    expect(readYuv(f, 18, 24)).toEqual(red); // the base
  });

  it('clips polygons partly or wholly off-frame, on odd frame sizes', () => {
    expectExactFill(37, 23, [-20, -10, 30, -5, 50, 40, 10, 30], 'over three edges');
    expectExactFill(15, 9, [-5, -5, 30, 4, -5, 20], 'covering the right edge');
    expectExactFill(15, 9, [100, 100, 120, 100, 110, 130], 'all outside');
  });

  it('matches the reference on random (also self-intersecting) polygons, never writing outside', () => {
    let seed = 99;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    for (let k = 0; k < 200; k++) {
      const w = 1 + Math.floor(rnd() * 17);
      const h = 1 + Math.floor(rnd() * 13);
      const n = 3 + Math.floor(rnd() * 6);
      const poly = Array.from({ length: 2 * n }, (_, i) => (i % 2 === 0 ? rnd() * (w + 12) - 6 : rnd() * (h + 12) - 6));
      expectExactFill(w, h, poly, `#${k} ${w}x${h} ${poly.map((v) => v.toFixed(2)).join(',')}`);
    }
  });

  it('blends each chroma sample once, even when two rows of a concave shape touch it', () => {
    const f = makeFrame(8, 4, { y: 16, u: 128, v: 128 });
    const before = copyFrame(f);
    // Row 0 covers pixel (2, 0), row 1 covers (3, 1): both in chroma block (1, 0).
    fillPolygon(f, Float64Array.of(2, 0, 3, 0, 4, 2, 3, 2), 4, red, 0.5);
    expect(changedLuma(before, f)).toEqual(new Set(['2,0', '3,1']));
    expect(changedChroma(before, f)).toEqual(new Set(['1,0']));
    expect(readYuv(f, 2, 0)).toEqual({ y: 16 + Math.round((81 - 16) / 2), u: 128 - 19, v: 128 + 56 });
    expect(readYuv(f, 3, 1).y).toBe(49);
  });

  it('ignores degenerate and non-finite input', () => {
    const f = makeFrame(10, 10);
    const before = copyFrame(f);
    fillPolygon(f, Float64Array.of(1, 1, 8, 8), 2, red);
    fillPolygon(f, Float64Array.of(1, 1, Number.NaN, 8, 2, 9), 3, red);
    fillPolygon(f, Float64Array.of(1, 1, 8, 1, 8, 8), 3, red, 0);
    expect(changedLuma(before, f).size).toBe(0);
  });
});

describe('segments, polylines, discs', () => {
  it('a horizontal segment of thickness 4 covers exactly 4 rows along its length', () => {
    const f = makeFrame(64, 40);
    const before = copyFrame(f);
    drawSegment(f, 10, 20, 50, 20, 4, red);
    const want = expectedSets(64, 40, (x, y) => x >= 10 && x < 50 && y >= 18 && y < 22);
    expect(changedLuma(before, f)).toEqual(want.luma);
    expect(changedChroma(before, f)).toEqual(want.chroma);
  });

  it('a diagonal segment covers about length x thickness pixels, all within t/2 of the line', () => {
    const f = makeFrame(80, 80);
    const before = copyFrame(f);
    drawSegment(f, 10, 10, 70, 60, 6, red);
    const changed = changedLuma(before, f);
    const len = Math.hypot(60, 50);
    expect(changed.size).toBeGreaterThan(len * 6 * 0.9);
    expect(changed.size).toBeLessThan(len * 6 * 1.1);
    for (const k of changed) {
      const [x, y] = k.split(',').map(Number) as [number, number];
      // Distance of the pixel centre from the infinite line through the two points.
      const d = Math.abs(50 * (x + 0.5 - 10) - 60 * (y + 0.5 - 10)) / len;
      expect(d).toBeLessThanOrEqual(3);
    }
  });

  it('an opaque polyline has round joins: the outer corner is filled', () => {
    const pts = Float64Array.of(10, 10, 40, 10, 40, 40);
    const joined = makeFrame(60, 60);
    drawPolyline(joined, pts, 3, false, 6, red);
    const butt = makeFrame(60, 60);
    drawSegment(butt, 10, 10, 40, 10, 6, red);
    drawSegment(butt, 40, 10, 40, 40, 6, red);
    expect(readYuv(joined, 41, 8).y).toBe(red.y);
    expect(readYuv(butt, 41, 8).y).toBe(100);
  });

  it('a closed polyline also closes back to the first point', () => {
    const f = makeFrame(40, 40);
    drawPolyline(f, Float64Array.of(5, 5, 30, 5, 30, 30), 3, true, 2, red);
    // Midpoint of the closing edge (30,30)->(5,5).
    expect(readYuv(f, 17, 17).y).toBe(red.y);
    expect(readYuv(f, 25, 12).y).toBe(100); // inside the triangle: outline only
  });

  it('discs are round and clipped at the frame edge', () => {
    const f = makeFrame(21, 21);
    const before = copyFrame(f);
    fillDisc(f, 0, 10, 8, red);
    const changed = changedLuma(before, f);
    // Half a disc of radius 8: about pi * 64 / 2 pixels.
    expect(changed.size).toBeGreaterThan(90);
    expect(changed.size).toBeLessThan(112);
    expect(f.guardsIntact()).toBe(true);
  });
});
