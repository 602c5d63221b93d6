import { describe, expect, it } from 'vitest';
import { boxSizes } from '../../src/drawing/boxAnnotator.js';
import { loadGlyphAtlas } from '../../src/drawing/glyphAtlas.js';
import { createLineAnnotator, DEFAULT_LINE_COLOR, lineLegend, rightNormal, type LegendGeometry, type LineDrawing } from '../../src/drawing/lineAnnotator.js';
import { DEFAULT_PALETTE } from '../../src/drawing/palette.js';
import { makeClassColor } from '../../src/drawing/palette.js';
import { tagWidth } from '../../src/drawing/tag.js';
import { changedLuma, copyFrame, makeFrame, xyOf } from './helpers.js';

const BLUE = '#00C4FF';
const line = (p1: [number, number], p2: [number, number]): LineDrawing => ({ id: 'l', name: 'entrance', p1, p2, in: 12, out: 7, color: BLUE });

describe('line annotator', () => {
  it('the right-hand normal of p1→p2 on the image (y down)', () => {
    const n = new Float64Array(2);
    expect([...rightNormal([0, 0], [10, 0], n)]).toEqual([-0, 1]); // heading right: right hand points down
    expect([...rightNormal([0, 0], [0, 10], n)]).toEqual([-1, 0]); // heading down: right hand points left
    expect([...rightNormal([3, 3], [3, 3], n)]).toEqual([0, 0]);
  });

  it('draws the "in" arrow on the right-hand side of p1→p2, for every direction', async () => {
    const ann = await createLineAnnotator({ width: 200, height: 200, style: { thickness: 2, showLabels: false } });
    for (let k = 0; k < 8; k++) {
      const a = (k * Math.PI) / 4 + 0.3;
      const p1: [number, number] = [100 - 60 * Math.cos(a), 100 - 60 * Math.sin(a)];
      const p2: [number, number] = [100 + 60 * Math.cos(a), 100 + 60 * Math.sin(a)];
      const f = makeFrame(200, 200);
      const before = copyFrame(f);
      ann.draw(f, [line(p1, p2)]);
      // Segment and markers are symmetric about the line: only the arrow moves the ink's centroid.
      let side = 0;
      let far = 0;
      // The end markers' dark ring reaches 2 * thickness + 1 (casing) = 5 px on either side.
      for (const key of changedLuma(before, f)) {
        const [x, y] = xyOf(key);
        const s = (x + 0.5 - 100) * -Math.sin(a) + (y + 0.5 - 100) * Math.cos(a); // dot with (-dy, dx)
        side += s;
        if (s < -5.5) far++;
      }
      expect(side, `direction ${k}`).toBeGreaterThan(0);
      expect(far, `ink left of the line, direction ${k}`).toBe(0);
    }
  });

  it('has the configured thickness along the segment, and white-cored end markers', async () => {
    const ann = await createLineAnnotator({ width: 200, height: 120, style: { thickness: 4, showLabels: false } });
    const f = makeFrame(200, 120);
    const before = copyFrame(f);
    ann.draw(f, [line([20, 60], [180, 60])]);
    const changed = changedLuma(before, f);
    // A quarter of the way along, far from the markers and the arrow: rows 58..61 in colour, one row of
    // dark casing (thickness / 2 = 2 px wide) each side, 56..63 changed in all.
    const column = [...changed].map(xyOf).filter(([x]) => x === 60).map(([, y]) => y).sort((p, q) => p - q);
    expect(column).toEqual([56, 57, 58, 59, 60, 61, 62, 63]);
    for (const y of [58, 61]) expect(f.pixels[y * 200 + 60]).toBe(makeClassColor(BLUE).fill.y);
    for (const y of [56, 63]) expect(f.pixels[y * 200 + 60]).toBeLessThan(100); // the casing darkens
    expect(f.pixels[60 * 200 + 20]).toBe(235); // white core of the p1 marker
    expect(f.pixels[60 * 200 + 20 + 6]).toBe(makeClassColor(BLUE).fill.y); // its coloured ring
    expect(f.pixels[(60 - 6) * 200 + 100]).toBe(100); // above the midpoint: no arrow there
    expect(f.pixels[(60 + 8) * 200 + 100]).toBe(makeClassColor(BLUE).fill.y); // the arrow's shaft below
  });

  it('has its own colour, unlike any class colour, unless the line names one', async () => {
    expect(DEFAULT_PALETTE.map((c) => c.toUpperCase())).not.toContain(DEFAULT_LINE_COLOR.toUpperCase());
    const ann = await createLineAnnotator({ width: 200, height: 120, style: { thickness: 4, showLabels: false } });
    const f = makeFrame(200, 120);
    ann.draw(f, [{ ...line([20, 60], [180, 60]), color: undefined }]);
    expect(f.pixels[60 * 200 + 60]).toBe(makeClassColor(DEFAULT_LINE_COLOR).fill.y);
    const pink = await createLineAnnotator({ width: 200, height: 120, style: { thickness: 4, showLabels: false, color: '#FF39C9' } });
    const g = makeFrame(200, 120);
    pink.draw(g, [{ ...line([20, 60], [180, 60]), color: undefined }]);
    expect(g.pixels[60 * 200 + 60]).toBe(makeClassColor('#FF39C9').fill.y);
  });

  it('the legend: "IN n" on the in (right-hand) side, "OUT n" on the other, by p2, the name past p2', async () => {
    const g: LegendGeometry = { ax: 0, ay: 0, nx: 0, ny: 0, inX: 0, inY: 0, outX: 0, outY: 0, end: 0 };
    // Heading right: the in side is below. By p2, inside the segment.
    expect(lineLegend(g, [60, 100], [300, 100], 40, 50, 20, 25, 4, 400, 200)).toBe(true);
    expect(g.end).toBe(2);
    expect(g.inY).toBeGreaterThan(100 + 25 + 10);
    expect(g.outY).toBeLessThan(100 - 25 - 10);
    expect(g.ax).toBeLessThan(300);
    expect(g.ax).toBeGreaterThan(300 - 60);
    // The plaza's walkway, drawn top to bottom: the in side is the picture's LEFT.
    expect(lineLegend(g, [384, 86], [384, 432], 48, 56, 22, 25, 4, 768, 576)).toBe(true);
    expect(g.inX).toBeLessThan(384 - 25 - 24);
    expect(g.outX).toBeGreaterThan(384 + 25 + 28);
    expect(g.ay).toBeGreaterThan(380);
    // No room by p2 (the frame's right edge): by p1 instead; no room by either end: the midpoint.
    expect(lineLegend(g, [60, 100], [390, 190], 40, 40, 20, 25, 4, 400, 200)).toBe(true); // by p2 the in tag is below the frame
    expect(g.end).toBe(1);
    expect(g.ax).toBeLessThan(120);
    expect(lineLegend(g, [60, 190], [390, 190], 40, 40, 20, 25, 4, 400, 200)).toBe(true);
    expect(g.end).toBe(0); // in side below the bottom edge at either end
    expect(lineLegend(g, [5, 5], [5, 5], 40, 40, 20, 25, 4, 400, 200)).toBe(false);
  });

  it('draws the legend and name tags where lineLegend puts them, and redraws when a count changes', async () => {
    const W = 400;
    const H = 200;
    const ann = await createLineAnnotator({ width: W, height: H });
    const l = line([60, 100], [300, 100]);
    const shapes = makeFrame(W, H);
    ann.drawShapes(shapes, [l]);
    const f = makeFrame(W, H);
    ann.draw(f, [l]);
    const sizes = boxSizes(W, H);
    const atlas = await loadGlyphAtlas(sizes.textHeight);
    const h = sizes.tagHeight;
    const wIn = tagWidth('IN 12'.length, atlas, sizes);
    const wOut = tagWidth('OUT 7'.length, atlas, sizes);
    const wName = tagWidth('entrance'.length, atlas, sizes);
    const labels = [...changedLuma(shapes, f)].map(xyOf);
    expect(labels.length).toBeGreaterThan((wIn + wOut + wName) * h * 0.5);
    let below = 0;
    let above = 0;
    let past = 0;
    for (const [x, y] of labels) {
      if (x > 300 + 2 * sizes.thickness) {
        past++; // the name tag, past the p2 marker, on the line's level
        expect(Math.abs(y + 0.5 - 100)).toBeLessThanOrEqual(h / 2 + 1);
        expect(x).toBeLessThan(300 + 6 * sizes.thickness + wName + 2);
      } else if (y > 100) {
        below++;
      } else {
        above++;
      }
      expect(x, `label pixel ${x},${y} by p2`).toBeGreaterThan(300 - 3 * Math.max(wIn, wOut));
    }
    expect(past).toBeGreaterThan(wName * h * 0.5);
    expect(below).toBeGreaterThan(wIn * h * 0.5); // "IN 12": the in side, below a line heading right
    expect(above).toBeGreaterThan(wOut * h * 0.5);
    // New totals, new text.
    const g = makeFrame(W, H);
    ann.draw(g, [{ ...l, in: 13 }]);
    expect(changedLuma(f, g).size).toBeGreaterThan(0);
  });

  it('lines off-frame, degenerate, non-finite, on odd sizes never write outside', async () => {
    for (const [w, h] of [[97, 61], [7, 5], [1, 1]] as const) {
      const ann = await createLineAnnotator({ width: w, height: h });
      const f = makeFrame(w, h);
      ann.draw(f, [
        line([-100, -100], [w + 100, h + 100]),
        line([5, 5], [5, 5]),
        line([Number.NaN, 0], [3, 3]),
        line([1e9, -1e9], [-1e9, 1e9]),
        { ...line([0, h - 1], [w - 1, 0]), in: Number.NaN, color: 'nope' },
      ]);
      expect(f.guardsIntact(), `${w}x${h}`).toBe(true);
    }
  });
});
