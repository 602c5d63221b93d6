import { describe, expect, it } from 'vitest';
import {
  blendMask,
  blendRect,
  dimFrame,
  fillRect,
  hexToRgb,
  readYuv,
  rgbToYuv,
  strokeRect,
} from '../../src/drawing/yuv.js';
import { changedChroma, changedLuma, copyFrame, expectedSets, makeFrame, onStroke, planesOf } from './helpers.js';

describe('rgbToYuv (BT.601 limited range, as ffmpeg converts by default)', () => {
  it.each([
    ['red', [255, 0, 0], { y: 81, u: 90, v: 240 }],
    ['green', [0, 255, 0], { y: 145, u: 54, v: 34 }],
    ['blue', [0, 0, 255], { y: 41, u: 240, v: 110 }],
    ['white', [255, 255, 255], { y: 235, u: 128, v: 128 }],
    ['black', [0, 0, 0], { y: 16, u: 128, v: 128 }],
    ['mid grey', [128, 128, 128], { y: 126, u: 128, v: 128 }],
  ] as const)('%s', (_name, [r, g, b], want) => {
    expect(rgbToYuv(r, g, b)).toEqual(want);
  });

  it('parses #rrggbb and rejects anything else', () => {
    expect(hexToRgb('#A351FB')).toEqual({ r: 0xa3, g: 0x51, b: 0xfb });
    expect(() => hexToRgb('#fff')).toThrow(/rrggbb/);
  });
});

describe('fillRect / strokeRect: exactly the expected samples', () => {
  const red = rgbToYuv(255, 0, 0);

  it('an even-aligned outline changes its luma ring and exactly the chroma blocks under it', () => {
    const f = makeFrame(16, 12);
    const before = copyFrame(f);
    strokeRect(f, 2, 2, 12, 10, 2, red);
    const want = expectedSets(16, 12, (x, y) => onStroke(x, y, 2, 2, 12, 10, 2));
    expect(changedLuma(before, f)).toEqual(want.luma);
    expect(changedChroma(before, f)).toEqual(want.chroma);
    // Even alignment: the chroma ring is exactly the luma ring halved, the inside keeps its colour.
    expect(readYuv(f, 2, 2)).toEqual(red);
    expect(readYuv(f, 11, 9)).toEqual(red);
    expect(readYuv(f, 4, 4)).toEqual({ y: 100, u: 128, v: 128 });
    expect(f.guardsIntact()).toBe(true);
  });

  it('fillRect writes the colour into luma and every touched chroma block', () => {
    const f = makeFrame(9, 7);
    fillRect(f, 3, 1, 3, 3, red); // odd start and size: touches blocks 1..2 x 0..1
    const p = planesOf(f);
    expect(p.y[1 * 9 + 3]).toBe(81);
    expect(p.y[1 * 9 + 2]).toBe(100);
    expect(p.u[0 * p.cw + 1]).toBe(90);
    expect(p.v[1 * p.cw + 2]).toBe(240);
    expect(p.u[0 * p.cw + 3]).toBe(128);
    expect(f.guardsIntact()).toBe(true);
  });

  it('clips at borders, odd sizes and odd coordinates without throwing or writing outside (fuzz against a reference)', () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let k = 0; k < 400; k++) {
      const w = 1 + rnd(11);
      const h = 1 + rnd(11);
      const x1 = rnd(w + 10) - 5;
      const y1 = rnd(h + 10) - 5;
      const x2 = x1 + rnd(14);
      const y2 = y1 + rnd(14);
      const t = 1 + rnd(4);
      const f = makeFrame(w, h);
      const before = copyFrame(f);
      strokeRect(f, x1, y1, x2, y2, t, red);
      const want = expectedSets(w, h, (x, y) => onStroke(x, y, x1, y1, x2, y2, t));
      expect(changedLuma(before, f), `luma ${w}x${h} box ${x1},${y1},${x2},${y2} t${t}`).toEqual(want.luma);
      expect(changedChroma(before, f), `chroma ${w}x${h} box ${x1},${y1},${x2},${y2} t${t}`).toEqual(want.chroma);
      expect(f.guardsIntact()).toBe(true);
    }
  });

  it('ignores empty, inverted and NaN rectangles', () => {
    const f = makeFrame(8, 8);
    const before = copyFrame(f);
    fillRect(f, 4, 4, 0, 3, red);
    fillRect(f, 4, 4, -3, 3, red);
    fillRect(f, Number.NaN, 0, 4, 4, red);
    strokeRect(f, 6, 6, 2, 2, 2, red);
    blendRect(f, 100, 100, 4, 4, red, 1);
    expect(changedLuma(before, f).size).toBe(0);
    expect(changedChroma(before, f).size).toBe(0);
  });

  it('refuses a buffer shorter than the frame size says', () => {
    expect(() => fillRect({ pixels: new Uint8Array(10), width: 8, height: 8 }, 0, 0, 2, 2, red)).toThrow(RangeError);
  });
});

describe('blending and dimming', () => {
  it('blendRect moves samples the given fraction towards the colour', () => {
    const f = makeFrame(4, 4, { y: 16, u: 128, v: 128 });
    blendRect(f, 0, 0, 4, 4, rgbToYuv(255, 255, 255), 0.5);
    expect(readYuv(f, 1, 1)).toEqual({ y: 126, u: 128, v: 128 });
    blendRect(f, 0, 0, 4, 4, rgbToYuv(255, 0, 0), 1);
    expect(readYuv(f, 3, 3)).toEqual({ y: 81, u: 90, v: 240 });
  });

  it('blendMask: luma by coverage, chroma by the mean coverage of the block', () => {
    const f = makeFrame(4, 2, { y: 0, u: 0, v: 0 });
    // Left block fully covered, right block covered on one pixel of four.
    const mask = Uint8Array.from([255, 255, 255, 0, 255, 255, 0, 0]);
    blendMask(f, mask, 0, 4, 0, 0, 4, 2, { y: 200, u: 200, v: 100 });
    const p = planesOf(f);
    expect([...p.y]).toEqual([200, 200, 200, 0, 200, 200, 0, 0]);
    expect([...p.u]).toEqual([200, 50]);
    expect([...p.v]).toEqual([100, 25]);
  });

  it('blendMask clips a mask hanging off the frame', () => {
    const f = makeFrame(5, 3);
    const mask = new Uint8Array(6 * 4).fill(255);
    blendMask(f, mask, 0, 6, -2, 1, 6, 4, { y: 235, u: 128, v: 128 });
    expect(readYuv(f, 0, 2).y).toBe(235);
    expect(readYuv(f, 4, 0).y).toBe(100);
    expect(f.guardsIntact()).toBe(true);
  });

  it('dimFrame scales luma towards 16 and chroma towards 128 on odd sizes', () => {
    const f = makeFrame(5, 3, { y: 235, u: 240, v: 16 });
    dimFrame(f.pixels, 5, 3, 0.5);
    expect(readYuv(f, 4, 2)).toEqual({ y: 126, u: 184, v: 72 });
    expect(f.guardsIntact()).toBe(true);
  });
});

describe('blendMask against a plain reference', () => {
  /** The rule spelled out sample by sample: luma by its own coverage, a chroma block by the mean
   *  coverage of its in-frame luma pixels (0 outside the mask). */
  function reference(f: { pixels: Uint8Array; width: number; height: number }, mask: Uint8Array, offset: number, stride: number, x: number, y: number, w: number, h: number, c: { y: number; u: number; v: number }): void {
    const W = f.width;
    const H = f.height;
    const cov = (px: number, py: number): number =>
      px >= x && px < x + w && py >= y && py < y + h && px >= 0 && py >= 0 && px < W && py < H ? mask[offset + (py - y) * stride + (px - x)]! : 0;
    const mix = (v: number, to: number, a: number): number => v + (((to - v) * a * 257 + 32768) >> 16);
    const cw = Math.ceil(W / 2);
    const uOff = W * H;
    const vOff = uOff + cw * Math.ceil(H / 2);
    for (let cy = 0; cy < Math.ceil(H / 2); cy++) {
      for (let cx = 0; cx < cw; cx++) {
        let sum = 0;
        let n = 0;
        for (let py = 2 * cy; py < Math.min(H, 2 * cy + 2); py++) {
          for (let px = 2 * cx; px < Math.min(W, 2 * cx + 2); px++) {
            n++;
            sum += cov(px, py);
          }
        }
        if (sum === 0) continue;
        const a = n === 4 ? (sum + 2) >> 2 : Math.round(sum / n);
        f.pixels[uOff + cy * cw + cx] = mix(f.pixels[uOff + cy * cw + cx]!, c.u, a);
        f.pixels[vOff + cy * cw + cx] = mix(f.pixels[vOff + cy * cw + cx]!, c.v, a);
      }
    }
    for (let py = 0; py < H; py++) {
      for (let px = 0; px < W; px++) {
        const a = cov(px, py);
        if (a > 0) f.pixels[py * W + px] = mix(f.pixels[py * W + px]!, c.y, a);
      }
    }
  }

  it('matches it on odd sizes, clipped masks and partial chroma blocks', () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let t = 0; t < 1500; t++) {
      const W = 1 + rnd(40);
      const H = 1 + rnd(30);
      const base = makeFrame(W, H);
      for (let i = 0; i < base.pixels.length; i++) base.pixels[i] = rnd(256);
      const w = 1 + rnd(30);
      const h = 1 + rnd(20);
      const stride = w + rnd(5);
      const offset = rnd(4);
      const mask = Uint8Array.from({ length: offset + stride * h }, () => (rnd(3) === 0 ? 0 : rnd(256)));
      const x = rnd(W + 20) - 10;
      const y = rnd(H + 20) - 10;
      const c = { y: rnd(256), u: rnd(256), v: rnd(256) };
      const got = copyFrame(base);
      const want = copyFrame(base);
      blendMask(got, mask, offset, stride, x, y, w, h, c);
      reference(want, mask, offset, stride, x, y, w, h, c);
      expect(got.pixels, `case ${t}: ${W}x${H}, mask ${w}x${h} at ${x},${y}`).toEqual(want.pixels);
    }
  });
});
