import { describe, expect, it } from 'vitest';
import { drawSlate, prepareSlate, slateTextHeights } from '../../src/drawing/slate.js';
import { readYuv } from '../../src/drawing/yuv.js';
import { makeFrame } from './helpers.js';

describe('slate', () => {
  it('darkens the picture and writes the lines centred', async () => {
    await prepareSlate({ width: 320, height: 240 });
    const f = makeFrame(320, 240, { y: 200, u: 160, v: 90 });
    expect(drawSlate(f, ['SIGNAL LOST', '12 s'])).toBe(true);
    // Corners: only dimmed (16 + 184 * 0.35, 128 + 32 * 0.35, 128 - 38 * 0.35).
    expect(readYuv(f, 0, 0)).toEqual({ y: 80, u: 139, v: 115 });
    expect(readYuv(f, 319, 239)).toEqual({ y: 80, u: 139, v: 115 });
    // White text somewhere in the middle band, left and right halves balanced (centred).
    let left = 0;
    let right = 0;
    for (let y = 60; y < 180; y++) {
      for (let x = 0; x < 320; x++) {
        if (readYuv(f, x, y).y > 200) {
          if (x < 160) left++;
          else right++;
        }
      }
    }
    expect(left + right).toBeGreaterThan(200);
    expect(Math.abs(left - right) / (left + right)).toBeLessThan(0.25);
    expect(f.guardsIntact()).toBe(true);
  });

  it('before the fonts are ready it only dims, starts loading them, and has text on a later call', async () => {
    const g = { width: 203, height: 151 }; // odd size, fonts nobody prepared yet
    const f = makeFrame(g.width, g.height, { y: 200, u: 128, v: 128 });
    expect(drawSlate(f, ['SIGNAL LOST'])).toBe(false);
    expect(readYuv(f, 101, 75).y).toBe(80);
    await prepareSlate(g);
    const f2 = makeFrame(g.width, g.height, { y: 200, u: 128, v: 128 });
    expect(drawSlate(f2, ['SIGNAL LOST', '3 s'])).toBe(true);
    expect(f2.guardsIntact()).toBe(true);
  });

  it('keeps text sizes readable at small and large frames', () => {
    expect(slateTextHeights({ width: 160, height: 120 })).toEqual({ title: 16, body: 12 });
    expect(slateTextHeights({ width: 1920, height: 1080 })).toEqual({ title: 90, body: 54 });
  });
});
