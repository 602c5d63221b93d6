import { describe, expect, it } from 'vitest';
import { atlasFromAlpha, loadGlyphAtlas, MissingFontError, peekGlyphAtlas } from '../../src/drawing/glyphAtlas.js';
import { WHITE } from '../../src/drawing/yuv.js';
import { changedChroma, changedLuma, copyFrame, makeFrame } from './helpers.js';

describe('glyph atlas', () => {
  it('renders printable ASCII once per height and shares the result', async () => {
    const a = await loadGlyphAtlas(27);
    expect(a.cellHeight).toBe(27);
    expect(a.cellWidth).toBeGreaterThanOrEqual(12);
    expect(a.cellWidth).toBeLessThanOrEqual(16);
    expect(a.measure('person 0.87')).toEqual({ width: 11 * a.cellWidth, height: 27 });
    expect(await loadGlyphAtlas(27)).toBe(a);
    expect(peekGlyphAtlas(27)).toBe(a);
    expect(peekGlyphAtlas(913)).toBeUndefined();
  });

  it('a text drawn again (kept composed), transient, or too long to keep, comes out the same', async () => {
    const a = await loadGlyphAtlas(18);
    const draw = (text: string, transient: boolean) => {
      const f = makeFrame(400, 40, { y: 60, u: 120, v: 140 });
      a.drawText(f, text, 7, 5, WHITE, transient);
      return f.pixels;
    };
    const first = draw('person 0.87', false);
    expect(draw('person 0.87', false)).toEqual(first);
    expect(draw('person 0.87', true)).toEqual(first);
    expect(draw('person 0.88', false)).not.toEqual(first);
    const long = 'a header line far longer than a label run';
    expect(draw(long, false)).toEqual(draw(long, true));
    // Many different texts (track ids over a long run) only ever recompose, never draw stale glyphs.
    for (let id = 0; id < 1200; id++) draw(`#${id}`, false);
    expect(draw('person 0.87', false)).toEqual(first);
  });

  it('text changes pixels inside its box only, and a space draws nothing', async () => {
    const a = await loadGlyphAtlas(20);
    const f = makeFrame(200, 60, { y: 16, u: 128, v: 128 });
    const before = copyFrame(f);
    a.drawText(f, ' ', 11, 7, WHITE);
    expect(changedLuma(before, f).size).toBe(0);
    a.drawText(f, 'Hg|', 11, 7, WHITE);
    const luma = changedLuma(before, f);
    expect(luma.size).toBeGreaterThan(40);
    for (const k of luma) {
      const [x, y] = k.split(',').map(Number) as [number, number];
      expect(x).toBeGreaterThanOrEqual(11);
      expect(x).toBeLessThan(11 + 3 * a.cellWidth);
      expect(y).toBeGreaterThanOrEqual(7);
      expect(y).toBeLessThan(27);
    }
    // White text on grey: chroma stays neutral.
    expect(changedChroma(before, f).size).toBe(0);
    expect(f.guardsIntact()).toBe(true);
  });

  it('draws characters outside printable ASCII as "?"', async () => {
    const a = await loadGlyphAtlas(20);
    const f1 = makeFrame(60, 30);
    const f2 = makeFrame(60, 30);
    a.drawText(f1, 'é\u{1F600}', 3, 3, WHITE);
    a.drawText(f2, '???', 3, 3, WHITE); // the emoji is two UTF-16 units
    expect(Buffer.compare(f1.pixels, f2.pixels)).toBe(0);
  });

  it('clips text that hangs off the frame', async () => {
    const a = await loadGlyphAtlas(24);
    const f = makeFrame(33, 17);
    expect(() => a.drawText(f, 'WWWWWWWW', -9, -5, WHITE)).not.toThrow();
    expect(() => a.drawText(f, 'WWWWWWWW', 30, 15, WHITE)).not.toThrow();
    expect(f.guardsIntact()).toBe(true);
  });

  it('an all-empty rendering means no font: the error names the package to install', () => {
    const make = (): unknown => atlasFromAlpha(new Uint8Array(95 * 8 * 16), 8, 16, 'DejaVu Sans Mono');
    expect(make).toThrow(MissingFontError);
    expect(make).toThrow(/fonts-dejavu-core/);
  });
});
