import { describe, expect, it } from 'vitest';
import { makeDetections, type Detections } from '../../src/detections.js';
import { boxSizes, createBoxAnnotator } from '../../src/drawing/boxAnnotator.js';
import { Palette } from '../../src/drawing/palette.js';
import { boxTagCandidates, TagLayout } from '../../src/drawing/tagLayout.js';
import { BLACK, hexToRgb, readYuv, rgbToYuv, WHITE } from '../../src/drawing/yuv.js';
import { changedChroma, changedLuma, copyFrame, expectedSets, makeFrame, onStroke } from './helpers.js';

const LABELS = ['person', 'bicycle', 'car'];

function dets(rows: [number, number, number, number, number, number][]): Detections {
  return makeDetections({
    xyxy: Float32Array.from(rows.flatMap((r) => r.slice(0, 4))),
    confidence: Float32Array.from(rows.map((r) => r[4])),
    classId: Int32Array.from(rows.map((r) => r[5])),
  });
}

/** Where a lone box's tag goes: its first candidate, clamped into the frame. */
function tagRect(width: number, height: number, bx1: number, by1: number, chars: number, m: { charWidth: number; padding: number; tagHeight: number }) {
  const w = Math.ceil((chars * m.charWidth + 2 * m.padding) / 2) * 2;
  const out = new Int32Array(2);
  const layout = new TagLayout();
  layout.begin(width, height);
  const cand = new Float64Array(16);
  layout.place(cand, boxTagCandidates(cand, bx1, by1, bx1 + 40, by1 + 40, w, m.tagHeight), w, m.tagHeight, out);
  return { x: out[0]!, y: out[1]!, w, h: m.tagHeight };
}

describe('sizes scale with resolution', () => {
  it.each([
    [640, 360, 2, 12],
    [1280, 720, 2, 18],
    [1920, 1080, 4, 27],
    [3840, 2160, 6, 54],
  ])('%ix%i: thickness %i, text %i px', (w, h, thickness, text) => {
    const s = boxSizes(w, h);
    expect(s.thickness).toBe(thickness);
    expect(s.textHeight).toBe(text);
    expect(s.tagHeight % 2).toBe(0);
  });
});

describe('box annotator', () => {
  it('without labels, an outline snapped to even pixels changes exactly its ring in Y and chroma', async () => {
    const ann = await createBoxAnnotator({ width: 64, height: 48, labels: LABELS, style: { showLabels: false, thickness: 2 } });
    const f = makeFrame(64, 48);
    const before = copyFrame(f);
    ann.draw(f, dets([[9.4, 7.2, 40.6, 30.1, 0.9, 2]]));
    // Snapped outward to even: [8, 6) .. [42, 32).
    const want = expectedSets(64, 48, (x, y) => onStroke(x, y, 8, 6, 42, 32, 2));
    expect(changedLuma(before, f)).toEqual(want.luma);
    expect(changedChroma(before, f)).toEqual(want.chroma);
    expect(readYuv(f, 8, 6)).toEqual(new Palette().forClass(2).fill);
  });

  it('puts the label tag above the box; the text changes pixels inside the tag only', async () => {
    const W = 320;
    const H = 240;
    const d = dets([[100, 120, 180, 200, 0.87, 0]]);
    const plain = await createBoxAnnotator({ width: W, height: H, labels: LABELS, style: { showLabels: false } });
    const ann = await createBoxAnnotator({ width: W, height: H, labels: LABELS });
    const boxesOnly = makeFrame(W, H);
    plain.draw(boxesOnly, d);
    const f = makeFrame(W, H);
    ann.draw(f, d);

    const t = tagRect(W, H, 100, 120, 'person 0.87'.length, ann.metrics);
    expect(t).toMatchObject({ x: 100, y: 120 - ann.metrics.tagHeight });
    const inTag = (x: number, y: number): boolean => x >= t.x && x < t.x + t.w && y >= t.y && y < t.y + t.h;
    for (const k of changedLuma(boxesOnly, f)) {
      const [x, y] = k.split(',').map(Number) as [number, number];
      expect(inTag(x, y), `luma ${k} outside the tag`).toBe(true);
    }
    for (const k of changedChroma(boxesOnly, f)) {
      const [cx, cy] = k.split(',').map(Number) as [number, number];
      expect(inTag(cx * 2, cy * 2), `chroma ${k} outside the tag`).toBe(true);
    }
    // The tag is filled with the class colour and carries text of the readable colour (at 12 px few
    // strokes reach full coverage, so count pixels nearer the text colour than the fill).
    const c = new Palette().forClass(0);
    expect(readYuv(f, t.x, t.y)).toEqual(c.fill);
    let textPixels = 0;
    for (let y = t.y; y < t.y + t.h; y++) {
      for (let x = t.x; x < t.x + t.w; x++) {
        const v = readYuv(f, x, y).y;
        if (Math.abs(v - c.text.y) < Math.abs(v - c.fill.y)) textPixels++;
      }
    }
    expect(textPixels).toBeGreaterThan(60);
    expect([WHITE.y, BLACK.y]).toContain(c.text.y);
  });

  it('moves the tag inside the box at the top edge and left at the right edge', async () => {
    const W = 320;
    const H = 240;
    const ann = await createBoxAnnotator({ width: W, height: H, labels: LABELS });
    const top = tagRect(W, H, 40, 0, 'car 0.50'.length, ann.metrics);
    expect(top.y).toBe(0);
    const right = tagRect(W, H, 300, 100, 'car 0.50'.length, ann.metrics);
    expect(right.x + right.w).toBeLessThanOrEqual(W);
    const f = makeFrame(W, H);
    ann.draw(f, dets([[40, 0, 120, 80, 0.5, 2], [300, 100, 320, 140, 0.5, 2]]));
    const c = new Palette().forClass(2).fill;
    expect(readYuv(f, top.x + 1, top.y + 1)).toEqual(c);
    expect(readYuv(f, right.x + right.w - 2, right.y + 1)).toEqual(c);
  });

  it('tags of boxes on top of each other (one van seen as two classes) both show, disjoint, the higher score above', async () => {
    const W = 320;
    const H = 240;
    const ann = await createBoxAnnotator({ width: W, height: H, labels: LABELS, style: { showTrackIds: true } });
    const f = makeFrame(W, H);
    const d = makeDetections({
      xyxy: Float32Array.of(100, 100, 180, 160, 101, 101, 179, 161, 150, 104, 200, 158),
      confidence: Float32Array.of(0.66, 0.75, 0.61),
      classId: Int32Array.of(2, 1, 0),
      trackId: Int32Array.of(6, 5, 3),
    });
    ann.draw(f, d);
    const outlines = makeFrame(W, H);
    (await createBoxAnnotator({ width: W, height: H, labels: LABELS, style: { showLabels: false } })).draw(outlines, d);
    const palette = new Palette();
    /** Tag pixels (those the outlines alone leave alone) in a class colour: their count and rows. */
    const inColour = (cls: number) => {
      const c = palette.forClass(cls).fill;
      let n = 0;
      let minY = H;
      let maxY = -1;
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const p = readYuv(f, x, y);
          if (f.pixels[y * W + x] === outlines.pixels[y * W + x]) continue;
          if (p.y === c.y && p.u === c.u && p.v === c.v) {
            n++;
            minY = Math.min(minY, y);
            maxY = Math.max(maxY, y);
          }
        }
      }
      return { n, minY, maxY };
    };
    const h = ann.metrics.tagHeight;
    const truck = inColour(1); // 0.75: placed first, above the boxes
    const car = inColour(2);
    const person = inColour(0);
    expect(truck.minY).toBe(100 - h);
    // Each tag's fill shows almost whole (text aside): none is hidden under another.
    for (const [name, got, chars] of [['truck', truck, '#5 bicycle 0.75'], ['car', car, '#6 car 0.66'], ['person', person, '#3 person 0.61']] as const) {
      expect(got.n, `${name} tag fill`).toBeGreaterThan(chars.length * ann.metrics.charWidth * h * 0.4);
    }
    expect(car.minY).toBeGreaterThanOrEqual(100 - h + h); // not on the truck's row
  });

  it('survives odd frame sizes, boxes off-frame, inverted or NaN, unknown classes', async () => {
    const W = 97;
    const H = 61;
    const ann = await createBoxAnnotator({ width: W, height: H, labels: LABELS });
    const f = makeFrame(W, H);
    const d = dets([
      [-50, -50, 20, 20, 0.3, 0],
      [80, 50, 200, 200, 1.2, 1],
      [500, 500, 600, 600, 0.9, 2],
      [60, 40, 10, 5, 0.4, 0],
      [Number.NaN, 0, 10, 10, 0.5, 0],
      [5, 5, 95, 59, Number.NaN, 99],
      [3, 3, 4, 4, -1, -7],
    ]);
    expect(() => ann.draw(f, d)).not.toThrow();
    expect(f.guardsIntact()).toBe(true);
  });

  it('prefixes the tag with the track id ("#12 person 0.87") and keeps untracked tags as they were', async () => {
    const W = 320;
    const H = 240;
    const ann = await createBoxAnnotator({ width: W, height: H, labels: LABELS });
    const noIds = await createBoxAnnotator({ width: W, height: H, labels: LABELS, style: { showTrackIds: false } });
    const d = (track: number): Detections => makeDetections({
      xyxy: Float32Array.of(100, 120, 180, 200),
      confidence: Float32Array.of(0.87),
      classId: Int32Array.of(0),
      trackId: Int32Array.of(track),
    });
    const tracked = makeFrame(W, H);
    ann.draw(tracked, d(12));
    const t = tagRect(W, H, 100, 120, '#12 person 0.87'.length, ann.metrics);
    const fill = new Palette().forClass(0).fill;
    expect(readYuv(tracked, t.x + t.w - 2, t.y + 1)).toEqual(fill); // the tag reaches the longer width
    const plainTag = tagRect(W, H, 100, 120, 'person 0.87'.length, ann.metrics);
    const untracked = makeFrame(W, H);
    ann.draw(untracked, d(-1));
    expect(readYuv(untracked, t.x + t.w - 2, t.y + 1).y).toBe(100);
    expect(readYuv(untracked, plainTag.x + plainTag.w - 2, plainTag.y + 1)).toEqual(fill);
    const off = makeFrame(W, H);
    noIds.draw(off, d(12));
    expect(changedLuma(untracked, off).size).toBe(0);
  });

  it('highlights the boxes whose track is in the set: tint inside, doubled outline', async () => {
    const W = 200;
    const H = 160;
    const ann = await createBoxAnnotator({ width: W, height: H, labels: LABELS, style: { showLabels: false, thickness: 2, highlightColor: '#FFFF00' } });
    const d = makeDetections({
      xyxy: Float32Array.of(20, 20, 80, 120, 110, 20, 170, 120),
      confidence: Float32Array.of(0.9, 0.9),
      classId: Int32Array.of(0, 0),
      trackId: Int32Array.of(5, 6),
    });
    const f = makeFrame(W, H);
    ann.draw(f, d, new Set([5]));
    const { r, g, b } = hexToRgb('#FFFF00');
    const yellowY = rgbToYuv(r, g, b).y;
    const inside5 = readYuv(f, 50, 70).y;
    expect(inside5).toBeGreaterThan(100);
    expect(inside5).toBeLessThan(yellowY);
    expect(readYuv(f, 140, 70).y).toBe(100); // track 6: not highlighted, inside untouched
    const cls = new Palette().forClass(0).fill;
    expect(readYuv(f, 22, 70)).toEqual(cls); // third column of box 5: the outline is 4 px there
    expect(readYuv(f, 112, 70).y).toBe(100); // box 6 keeps 2 px
  });
});

