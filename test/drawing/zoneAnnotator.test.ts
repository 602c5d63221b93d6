import { describe, expect, it } from 'vitest';
import { boxSizes, DEFAULT_HIGHLIGHT } from '../../src/drawing/boxAnnotator.js';
import { loadGlyphAtlas } from '../../src/drawing/glyphAtlas.js';
import { makeClassColor } from '../../src/drawing/palette.js';
import { tagWidth } from '../../src/drawing/tag.js';
import { readYuv } from '../../src/drawing/yuv.js';
import { createZoneAnnotator, DEFAULT_ZONE_OPACITY, type ZoneDrawing } from '../../src/drawing/zoneAnnotator.js';
import { changedLuma, copyFrame, distToOutline, insidePoly, makeFrame, xyOf } from './helpers.js';

const GREEN = '#40DE8A';
const pairs = (flat: number[]): [number, number][] => Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!]);

describe('zone annotator', () => {
  // A concave "L" so the fill has to respect the inner corner.
  const L = [20, 20, 60, 20, 60, 60, 100, 60, 100, 100, 20, 100];
  const zone = (over: Partial<ZoneDrawing> = {}): ZoneDrawing => ({ id: 'z1', name: 'door', polygon: pairs(L), color: GREEN, ...over });

  it('fills the inside only (translucent) and outlines the border, concave corner included', async () => {
    const ann = await createZoneAnnotator({ width: 128, height: 112, style: { thickness: 2, showLabels: false } });
    const f = makeFrame(128, 112);
    const before = copyFrame(f);
    ann.draw(f, [zone()]);
    const fill = makeClassColor(GREEN).fill;
    for (let y = 0; y < 112; y++) {
      for (let x = 0; x < 128; x++) {
        const cx = x + 0.5;
        const cy = y + 0.5;
        const d = distToOutline(cx, cy, L);
        const changed = f.pixels[y * 128 + x] !== before.pixels[y * 128 + x];
        if (d > 1.5) {
          // Away from the outline: changed exactly when inside, and only part-way to the colour.
          expect(changed, `${x},${y}`).toBe(insidePoly(cx, cy, L));
          if (changed) expect(f.pixels[y * 128 + x]).toBe(100 + Math.round((fill.y - 100) * DEFAULT_ZONE_OPACITY));
        }
        if (d > 2.5 && !insidePoly(cx, cy, L)) expect(changed, `outside ${x},${y}`).toBe(false);
      }
    }
    // On the outline: full colour. Inside the concave notch (80, 40): untouched.
    expect(readYuv(f, 60, 40)).toEqual(fill);
    expect(f.pixels[40 * 128 + 80]).toBe(100);
  });

  it('a light fill by default; an active zone keeps that fill and gets a doubled outline in the highlight colour', async () => {
    expect(DEFAULT_ZONE_OPACITY).toBeLessThanOrEqual(0.15); // a zone over a third of the frame must not darken it
    const ann = await createZoneAnnotator({ width: 128, height: 112, style: { thickness: 2, showLabels: false } });
    const idle = makeFrame(128, 112);
    const active = makeFrame(128, 112);
    ann.draw(idle, [zone()]);
    ann.draw(active, [zone({ active: true })]);
    const fillY = makeClassColor(GREEN).fill.y;
    const red = makeClassColor(DEFAULT_HIGHLIGHT).fill;
    // Inside: the same light fill.
    expect(active.pixels[80 * 128 + 40]).toBe(idle.pixels[80 * 128 + 40]);
    // On the edge at x = 20: the zone colour when idle, the highlight colour when active.
    expect(readYuv(idle, 20, 50).y).toBe(fillY);
    expect(readYuv(active, 20, 50)).toEqual(red);
    // Pixel 18 (1.5 px left of the edge at x = 20): only the doubled outline (4 px, centred) reaches it.
    expect(idle.pixels[50 * 128 + 18]).toBe(100);
    expect(active.pixels[50 * 128 + 18]).toBe(red.y);
  });

  it('puts the "name: count" tag above the highest vertex; text only changes when the count does', async () => {
    const W = 320;
    const H = 240;
    const ann = await createZoneAnnotator({ width: W, height: H });
    const shapes = makeFrame(W, H);
    const poly = [100, 150, 180, 90, 260, 150, 180, 210];
    const z: ZoneDrawing = { id: 'd', name: 'door', polygon: pairs(poly), color: GREEN, count: 3 };
    ann.drawShapes(shapes, [z]);
    const f = makeFrame(W, H);
    ann.draw(f, [z]);
    const sizes = boxSizes(W, H);
    const atlas = await loadGlyphAtlas(sizes.textHeight);
    const w = tagWidth('door: 3'.length, atlas, sizes);
    // Centred above the highest vertex (180, 90), on even pixels.
    const [tx, ty] = [Math.floor((180 - w / 2) / 2) * 2, 90 - sizes.tagHeight];
    expect(ty + sizes.tagHeight).toBeLessThanOrEqual(90);
    const labelPixels = changedLuma(shapes, f);
    expect(labelPixels.size).toBeGreaterThan(w * sizes.tagHeight * 0.5);
    for (const k of labelPixels) {
      const [x, y] = xyOf(k);
      expect(x >= tx && x < tx + w && y >= ty && y < ty + sizes.tagHeight, `label pixel ${k}`).toBe(true);
    }
    const f12 = makeFrame(W, H);
    ann.draw(f12, [{ ...z, count: 12 }]);
    expect(changedLuma(f, f12).size).toBeGreaterThan(0);
  });

  it('zones partly off-frame and odd frame sizes never write outside the buffer', async () => {
    for (const [w, h] of [[97, 61], [33, 17], [2, 2], [1, 1]] as const) {
      const ann = await createZoneAnnotator({ width: w, height: h });
      const f = makeFrame(w, h);
      ann.draw(f, [
        { id: 'a', name: 'left', polygon: [[-50, -20], [40, 10], [30, 200]], count: 1, active: true },
        { id: 'b', name: 'far', polygon: [[500, 500], [600, 500], [550, 700]], count: 0 },
        { id: 'c', name: 'bad', polygon: [[0, 0], [Number.NaN, 5], [5, 5]] },
        { id: 'd', name: 'two', polygon: [[0, 0], [5, 5]] },
        { id: 'e', name: 'badcolor', polygon: [[0, 0], [w, 0], [w, h]], color: 'green' },
      ]);
      expect(f.guardsIntact(), `${w}x${h}`).toBe(true);
    }
  });
});
