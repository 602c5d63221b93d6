import { describe, expect, it } from 'vitest';
import { yuv420pSize } from '../../src/frame.js';
import { InternalError } from '../../src/errors.js';
import {
  PAD_VALUE,
  axisTable,
  letterboxGeometry,
  letterboxTables,
  letterboxYuv420p,
} from '../../src/inference/letterbox.js';

const S = 416;

function constantFrame(width: number, height: number, y: number, u: number, v: number) {
  const pixels = new Uint8Array(yuv420pSize({ width, height }));
  const luma = width * height;
  pixels.fill(y, 0, luma);
  const chroma = (pixels.length - luma) / 2;
  pixels.fill(u, luma, luma + chroma);
  pixels.fill(v, luma + chroma);
  return { pixels, width, height };
}

/** Channel c (0 = B, 1 = G, 2 = R) of NCHW pixel (x, y). */
const at = (t: Float32Array, c: number, x: number, y: number): number => t[c * S * S + y * S + x]!;

describe('letterboxGeometry', () => {
  it.each([
    // width, height, ratio, content w, content h
    [768, 576, 416 / 768, 416, 312],
    [1920, 1080, 416 / 1920, 416, 234],
    [1280, 720, 416 / 1280, 416, 234],
    [576, 768, 416 / 768, 312, 416],
    [416, 416, 1, 416, 416],
    [208, 100, 2, 416, 200], // small frames are scaled up
  ])('%ix%i → ratio %f, content %ix%i', (w, h, ratio, cw, ch) => {
    const lb = letterboxGeometry(w, h, S, S);
    expect(lb.ratio).toBeCloseTo(ratio, 12);
    expect([lb.contentWidth, lb.contentHeight]).toEqual([cw, ch]);
    expect([lb.srcWidth, lb.srcHeight]).toEqual([w, h]);
  });
});

describe('axisTable (OpenCV INTER_LINEAR mapping)', () => {
  it('maps dst d to src (d + 0.5) * scale - 0.5 with 11-bit weights', () => {
    const t = axisTable(768, 416);
    const scale = 768 / 416;
    for (const d of [0, 1, 7, 200, 414]) {
      const f = (d + 0.5) * scale - 0.5;
      expect(t.i0[d]).toBe(Math.floor(f));
      expect(t.i1[d]).toBe(Math.floor(f) + 1);
      expect(t.a1[d]).toBe(Math.round((f - Math.floor(f)) * 2048));
      expect(Math.abs(t.a0[d]! + t.a1[d]! - 2048)).toBeLessThanOrEqual(1);
      expect(t.c0[d]).toBe(t.i0[d]! >> 1);
    }
  });

  it('clamps before the first and past the last source pixel with weight 0', () => {
    const up = axisTable(10, 40); // upscaling: d = 0 maps to -0.375
    expect([up.i0[0], up.i1[0], up.a0[0], up.a1[0]]).toEqual([0, 1, 2048, 0]);
    expect([up.i0[39], up.i1[39], up.a0[39], up.a1[39]]).toEqual([9, 9, 2048, 0]);
  });

  it('samples (no antialiasing) when shrinking 1080p: two taps per output pixel', () => {
    const t = axisTable(1920, 416);
    for (let d = 0; d < 416; d++) expect(t.i1[d]! - t.i0[d]!).toBe(1);
  });

  it('caches tables per geometry', () => {
    expect(letterboxTables(640, 480, S, S)).toBe(letterboxTables(640, 480, S, S));
    expect(letterboxTables(640, 480, S, S)).not.toBe(letterboxTables(480, 640, S, S));
  });
});

describe('letterboxYuv420p', () => {
  // Expected BGR from ffmpeg 5.1 on x86 (-pix_fmt yuv420p → bgr24 of a 64x48 constant frame), which is
  // also what cv2.VideoCapture returns: swscale's fixed point, not the textbook rounding.
  it.each([
    ['black', [16, 128, 128], [0, 0, 0]],
    ['white', [235, 128, 128], [255, 255, 255]],
    ['grey', [126, 128, 128], [128, 128, 128]],
    ['red', [81, 90, 240], [0, 0, 253]],
    ['green', [145, 54, 34], [0, 254, 0]],
    ['blue', [41, 240, 110], [254, 0, 0]],
    ['over range', [255, 0, 255], [19, 224, 255]],
    ['under range', [0, 255, 0], [237, 35, 0]],
    ['mid 1', [100, 150, 90], [141, 118, 36]],
    ['mid 2', [200, 60, 180], [76, 197, 255]],
  ] as const)('constant %s frame → exact BGR, padding 114', (_n, [y, u, v], bgr) => {
    const into = new Float32Array(3 * S * S).fill(-1);
    const lb = letterboxYuv420p(constantFrame(768, 576, y, u, v), into, S, S);
    expect([lb.contentWidth, lb.contentHeight]).toEqual([416, 312]);
    for (let c = 0; c < 3; c++) {
      for (const [x, yy] of [[0, 0], [415, 0], [200, 150], [0, 311], [415, 311]] as const) {
        expect(at(into, c, x, yy)).toBe(bgr[c]);
      }
      for (const [x, yy] of [[0, 312], [415, 415], [200, 400]] as const) expect(at(into, c, x, yy)).toBe(PAD_VALUE);
    }
    // Every value is either the colour or padding: no stray writes, nothing left unwritten.
    const plane = S * S;
    for (let i = 0; i < 3 * plane; i++) {
      const expected = i % plane < 312 * S ? bgr[Math.floor(i / plane)] : PAD_VALUE;
      if (into[i] !== expected) throw new Error(`value ${into[i]} at ${i}, expected ${expected}`);
    }
  });

  it('pads the right side of a portrait frame, at odd sizes too', () => {
    const into = new Float32Array(3 * S * S);
    const lb = letterboxYuv420p(constantFrame(481, 641, 126, 128, 128), into, S, S);
    expect(lb.contentHeight).toBe(416);
    expect(lb.contentWidth).toBe(Math.floor(481 * (416 / 641)));
    for (let c = 0; c < 3; c++) {
      expect(at(into, c, lb.contentWidth - 1, 415)).toBe(128);
      expect(at(into, c, lb.contentWidth, 0)).toBe(PAD_VALUE);
      expect(at(into, c, 415, 415)).toBe(PAD_VALUE);
    }
  });

  it('interpolates between neighbours and keeps the chroma of each pixel’s own 2x2 block', () => {
    // Left half black, right half white (luma only): a monotone ramp across the middle, ends exact.
    const f = constantFrame(832, 624, 16, 128, 128);
    for (let y = 0; y < 624; y++) f.pixels.fill(235, y * 832 + 416, (y + 1) * 832);
    const into = new Float32Array(3 * S * S);
    letterboxYuv420p(f, into, S, S);
    const row = Array.from({ length: S }, (_, x) => at(into, 0, x, 100));
    expect(row[0]).toBe(0);
    expect(row[415]).toBe(255);
    for (let x = 1; x < S; x++) expect(row[x]).toBeGreaterThanOrEqual(row[x - 1]!);
  });

  it('rejects a short frame or a wrongly sized buffer', () => {
    const f = constantFrame(64, 48, 0, 0, 0);
    expect(() => letterboxYuv420p({ ...f, pixels: f.pixels.subarray(1) }, new Float32Array(3 * S * S), S, S)).toThrow(InternalError);
    expect(() => letterboxYuv420p(f, new Float32Array(10), S, S)).toThrow(/input buffer has 10 floats/);
  });
});
