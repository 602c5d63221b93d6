import { describe, expect, it } from 'vitest';
import { boxSizes } from '../../src/drawing/boxAnnotator.js';
import { loadGlyphAtlas } from '../../src/drawing/glyphAtlas.js';
import { createLineAnnotator, rightNormal, type LineDrawing } from '../../src/drawing/lineAnnotator.js';
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
      for (const key of changedLuma(before, f)) {
        const [x, y] = xyOf(key);
        const s = (x + 0.5 - 100) * -Math.sin(a) + (y + 0.5 - 100) * Math.cos(a); // dot with (-dy, dx)
        side += s;
        if (s < -4) far++;
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
    // A quarter of the way along, far from the markers and the arrow: rows 58..61 exactly.
    const column = [...changed].map(xyOf).filter(([x]) => x === 60).map(([, y]) => y).sort((p, q) => p - q);
    expect(column).toEqual([58, 59, 60, 61]);
    expect(f.pixels[60 * 200 + 20]).toBe(235); // white core of the p1 marker
    expect(f.pixels[60 * 200 + 20 + 6]).toBe(makeClassColor(BLUE).fill.y); // its coloured ring
    expect(f.pixels[(60 - 6) * 200 + 100]).toBe(100); // above the midpoint: no arrow there
    expect(f.pixels[(60 + 8) * 200 + 100]).toBe(makeClassColor(BLUE).fill.y); // the arrow's shaft below
  });

  it('puts the "name  in N  out M" tag beyond p2 when it fits, clear of the line', async () => {
    const W = 400;
    const H = 200;
    const ann = await createLineAnnotator({ width: W, height: H });
    const l = line([60, 100], [200, 100]);
    const shapes = makeFrame(W, H);
    ann.drawShapes(shapes, [l]);
    const f = makeFrame(W, H);
    ann.draw(f, [l]);
    const sizes = boxSizes(W, H);
    const atlas = await loadGlyphAtlas(sizes.textHeight);
    const w = tagWidth('entrance  in 12  out 7'.length, atlas, sizes);
    const labels = [...changedLuma(shapes, f)].map(xyOf);
    expect(labels.length).toBeGreaterThan(w * sizes.tagHeight * 0.5);
    for (const [x, y] of labels) {
      expect(x).toBeGreaterThan(200 + 2 * sizes.thickness); // past the p2 marker
      expect(x).toBeLessThan(200 + 4 * sizes.thickness + w + 2);
      expect(Math.abs(y + 0.5 - 100)).toBeLessThanOrEqual(sizes.tagHeight / 2 + 1);
    }
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
