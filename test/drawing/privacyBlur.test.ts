import { describe, expect, it } from 'vitest';
import { makeDetections } from '../../src/detections.js';
import { blockSize, createPrivacyBlur, pixelateRect } from '../../src/drawing/privacyBlur.js';
import { changedChroma, changedLuma, copyFrame, makeFrame, planesOf, xyOf, type GuardedFrame } from './helpers.js';

/** A frame full of detail (a face would be): every sample differs from its neighbours. */
function noisy(w: number, h: number): GuardedFrame {
  const f = makeFrame(w, h);
  let s = 7;
  for (let i = 0; i < f.pixels.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    f.pixels[i] = 16 + (s % 220);
  }
  return f;
}

describe('privacy pixelation', () => {
  it('changes only the boxes of the chosen class, into flat blocks', () => {
    const W = 160;
    const H = 120;
    const f = noisy(W, H);
    const before = copyFrame(f);
    const blur = createPrivacyBlur({ width: W, height: H, classIds: [0], minBlock: 8 });
    const d = makeDetections({
      xyxy: Float32Array.of(20, 30, 60, 100, 90, 10, 150, 70),
      confidence: Float32Array.of(0.9, 0.9),
      classId: Int32Array.of(0, 2),
    });
    expect(blur.draw(f, d)).toBe(true);
    const inPerson = (x: number, y: number): boolean => x >= 20 && x < 60 && y >= 30 && y < 100;
    const luma = changedLuma(before, f);
    expect(luma.size).toBeGreaterThan(40 * 70 * 0.9);
    for (const k of luma) expect(inPerson(...xyOf(k)), `luma ${k}`).toBe(true);
    for (const k of changedChroma(before, f)) {
      const [cx, cy] = xyOf(k);
      expect(inPerson(cx * 2, cy * 2), `chroma ${k}`).toBe(true);
    }
    // Block edge for a 40 x 70 box: max(8, 40 / 8 -> 6) = 8; each 8 x 8 block is one value.
    const b = blockSize(40, 70, 8);
    expect(b).toBe(8);
    const p = planesOf(f);
    for (let y = 30; y < 94; y++) {
      for (let x = 20; x < 60; x++) {
        const ox = 20 + Math.floor((x - 20) / b) * b;
        const oy = 30 + Math.floor((y - 30) / b) * b;
        expect(p.y[y * W + x], `${x},${y}`).toBe(p.y[oy * W + ox]);
      }
    }
    expect(blur.draw(f, makeDetections({ xyxy: Float32Array.of(0, 0, 9, 9), confidence: Float32Array.of(1), classId: Int32Array.of(2) })))
      .toBe(false);
  });

  it('a block keeps the mean of what it covered (the picture is hidden, not blanked)', () => {
    const f = makeFrame(8, 8, { y: 0, u: 128, v: 128 });
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) f.pixels[y * 8 + x] = x < 4 ? 50 : 150;
    pixelateRect(f, 0, 0, 8, 8, 8);
    expect(f.pixels[0]).toBe(100);
    expect(f.pixels[63]).toBe(100);
  });

  it('boxes over the frame edges, odd sizes, wild and NaN coordinates stay in bounds', () => {
    for (const [w, h] of [[97, 61], [5, 3], [1, 1]] as const) {
      const f = noisy(w, h);
      for (const [x1, y1, x2, y2] of [[-33, -17, 20, 15], [w - 7, h - 5, w + 40, h + 40], [-1e12, -1e12, 1e12, 1e12], [Number.NaN, 0, 4, 4], [10, 10, 3, 2]]) {
        pixelateRect(f, x1!, y1!, x2!, y2!, 6);
      }
      expect(f.guardsIntact(), `${w}x${h}`).toBe(true);
    }
  });
});
