import { describe, expect, it } from 'vitest';
import { createHeaderAnnotator, formatPts, headerText } from '../../src/drawing/headerAnnotator.js';
import { changedChroma, changedLuma, copyFrame, makeFrame, xyOf } from './helpers.js';

describe('header', () => {
  it('formats the source time as HH:MM:SS.mmm', () => {
    expect(formatPts(0)).toBe('00:00:00.000');
    expect(formatPts(3723.4567)).toBe('01:02:03.457');
    expect(formatPts(59.9996)).toBe('00:01:00.000');
    expect(formatPts(100 * 3600 + 1.5)).toBe('100:00:01.500');
    expect(formatPts(Number.NaN)).toBe('--:--:--.---');
    expect(formatPts(-1)).toBe('--:--:--.---');
  });

  it('shows the parts that are given, a wall time instead of the pts', () => {
    expect(headerText({ title: 'gate-cam', ptsS: 12.5, fps: 24.96 })).toBe('gate-cam  00:00:12.500  25.0 fps');
    expect(headerText({ title: 'gate-cam', ptsS: 12.5, wallTimeMs: Date.UTC(2024, 4, 1, 12, 0, 0, 123) }))
      .toBe('gate-cam  2024-05-01T12:00:00.123Z');
    expect(headerText({})).toBe('');
  });

  it('draws a translucent bar at the top-left and writes nothing outside it', async () => {
    const W = 640;
    const H = 360;
    const header = await createHeaderAnnotator({ width: W, height: H });
    const f = makeFrame(W, H, { y: 180, u: 128, v: 128 });
    const before = copyFrame(f);
    const w = header.draw(f, { title: 'plaza', ptsS: 61.25, fps: 10 });
    const h = header.sizes.tagHeight;
    expect(w).toBeGreaterThan(100);
    expect(w).toBeLessThan(W / 2);
    for (const k of changedLuma(before, f)) {
      const [x, y] = xyOf(k);
      expect(x < w && y < h, `luma ${k} outside the bar`).toBe(true);
    }
    for (const k of changedChroma(before, f)) {
      const [cx, cy] = xyOf(k);
      expect(cx * 2 < w && cy * 2 < h, `chroma ${k} outside the bar`).toBe(true);
    }
    // Translucent: the background darkened but not to black; text pixels brighter than the bar.
    const corner = f.pixels[0]!;
    expect(corner).toBeLessThan(180);
    expect(corner).toBeGreaterThan(16);
    let bright = 0;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (f.pixels[y * W + x]! > 200) bright++;
    expect(bright).toBeGreaterThan(100);
    expect(header.draw(f, {})).toBe(0);
  });

  it('a header wider or taller than a tiny frame stays inside it', async () => {
    const header = await createHeaderAnnotator({ width: 21, height: 9 });
    const f = makeFrame(21, 9);
    header.draw(f, { title: 'a very long run name', ptsS: 1, fps: 30 });
    expect(f.guardsIntact()).toBe(true);
  });
});
