import { describe, expect, it } from 'vitest';
import { ModelError } from '../../src/errors.js';
import type { Letterbox, ModelIo } from '../../src/inference/adapter.js';
import { createYoloxAdapter, decodeYolox, yoloxGrid } from '../../src/inference/yolox.js';

const C = 4; // a 4-class toy head keeps the synthetic tensors small
const grid = yoloxGrid(416, 416);
const IO: ModelIo = { path: 'toy.onnx', inputShape: [1, 3, 416, 416], outputShape: [1, 3549, 5 + C], numClasses: C };
/** A 768x576 source: ratio 416/768 (0.5417), content 416x312. */
const LB: Letterbox = { srcWidth: 768, srcHeight: 576, ratio: 416 / 768, contentWidth: 416, contentHeight: 312 };
const OPTS = { confidence: 0.3, iou: 0.45 };

/** Anchor index of cell (x, y) of the head with this stride, in the head's row-major order. */
function anchor(stride: number, x: number, y: number): number {
  let base = 0;
  for (const s of [8, 16, 32]) {
    const w = 416 / s;
    if (s === stride) return base + y * w + x;
    base += w * (416 / s);
  }
  throw new Error(`no stride ${stride}`);
}

/** An all-zero head with the given anchors set: raw cx, cy, w, h (grid units, log wh), obj, class scores. */
function head(rows: { a: number; raw: [number, number, number, number]; obj: number; cls: number[] }[]): Float32Array {
  const out = new Float32Array(3549 * (5 + C));
  for (const r of rows) out.set([...r.raw, r.obj, ...r.cls], r.a * (5 + C));
  return out;
}

const boxes = (d: { count: number; xyxy: Float32Array }) =>
  Array.from({ length: d.count }, (_, i) => Array.from(d.xyxy.subarray(4 * i, 4 * i + 4)));

describe('yoloxGrid', () => {
  it('has 52², 26², 13² cells for 416, row-major per stride', () => {
    expect(grid.count).toBe(3549);
    const a = anchor(16, 5, 3);
    expect([grid.gx[a], grid.gy[a], grid.stride[a]]).toEqual([5, 3, 16]);
    expect([grid.gx[0], grid.gy[0], grid.stride[0]]).toEqual([0, 0, 8]);
    expect([grid.gx[3548], grid.gy[3548], grid.stride[3548]]).toEqual([12, 12, 32]);
    expect(yoloxGrid(640, 384).count).toBe(80 * 48 + 40 * 24 + 20 * 12);
  });
});

describe('decodeYolox', () => {
  it('decodes xy = (xy + grid) * stride, wh = exp(wh) * stride, score = obj x cls, ÷ ratio', () => {
    const out = head([{ a: anchor(16, 5, 3), raw: [0.5, 0.25, Math.log(2), Math.log(4)], obj: 0.9, cls: [0, 0, 0.8, 0.1] }]);
    const d = decodeYolox(out, C, grid, LB, OPTS);
    expect(d.count).toBe(1);
    expect(d.classId[0]).toBe(2);
    expect(d.confidence[0]).toBeCloseTo(0.72, 6);
    // centre (88, 52), size 32 x 64 in model pixels → x1 72, y1 20, x2 104, y2 84, then × 768/416.
    const k = 768 / 416;
    boxes(d)[0]!.forEach((v, i) => expect(v).toBeCloseTo([72 * k, 20 * k, 104 * k, 84 * k][i]!, 3));
    expect(d.trackId[0]).toBe(-1);
  });

  it('drops scores at or below the confidence threshold, per class', () => {
    const a = anchor(8, 10, 10);
    // Binary fractions, so float32 holds the products exactly: 0.25, 0.375, 0.125, 0.5.
    const out = head([{ a, raw: [0, 0, 1, 1], obj: 0.5, cls: [0.5, 0.75, 0.25, 1] }]);
    const d = decodeYolox(out, C, grid, LB, { ...OPTS, confidence: 0.25 });
    expect(Array.from(d.classId)).toEqual([3, 1]); // 0.25 is not above 0.25; best first
    expect(Array.from(d.confidence)).toEqual([0.5, 0.375]);
  });

  it('applies the class filter', () => {
    const out = head([{ a: anchor(8, 10, 10), raw: [0, 0, 1, 1], obj: 0.9, cls: [0.9, 0.9, 0.9, 0.9] }]);
    const d = decodeYolox(out, C, grid, LB, { ...OPTS, classes: new Set([0, 2, 99]) });
    expect(Array.from(d.classId).sort()).toEqual([0, 2]);
  });

  it('suppresses overlaps within a class only', () => {
    const raw: [number, number, number, number] = [0, 0, Math.log(4), Math.log(4)];
    const out = head([
      { a: anchor(8, 20, 20), raw, obj: 0.9, cls: [0.9, 0, 0, 0] },
      { a: anchor(8, 21, 20), raw, obj: 0.9, cls: [0.8, 0, 0, 0.7] }, // 25% shifted box: IoU 0.6
    ]);
    const d = decodeYolox(out, C, grid, LB, OPTS);
    expect(Array.from(d.classId)).toEqual([0, 3]);
    expect(decodeYolox(out, C, grid, LB, { ...OPTS, iou: 0.7 }).count).toBe(3);
  });

  it('a class group meets in one NMS and is reported as the group (the van seen as car and truck)', () => {
    const raw: [number, number, number, number] = [0, 0, Math.log(4), Math.log(4)];
    // One anchor scoring class 2 and class 3 for the same box; class 0 beside it, overlapping.
    const out = head([
      { a: anchor(8, 20, 20), raw, obj: 0.9, cls: [0, 0, 0.74, 0.76] },
      { a: anchor(8, 21, 20), raw, obj: 0.9, cls: [0.8, 0, 0, 0] },
    ]);
    expect(Array.from(decodeYolox(out, C, grid, LB, OPTS).classId).sort()).toEqual([0, 2, 3]);
    const grouped = decodeYolox(out, C, grid, LB, { ...OPTS, outputClass: Int32Array.from([0, 1, 4, 4]) });
    // Best first: the person (0.72), then one vehicle with the better member's score.
    expect(Array.from(grouped.classId)).toEqual([0, 4]);
    expect(grouped.confidence[1]).toBeCloseTo(0.9 * 0.76, 5);
  });

  it('agnostic NMS keeps one box per object whatever its class, each keeping its own class', () => {
    const raw: [number, number, number, number] = [0, 0, Math.log(4), Math.log(4)];
    const out = head([
      { a: anchor(8, 20, 20), raw, obj: 0.9, cls: [0, 0, 0.74, 0.76] },
      { a: anchor(8, 21, 20), raw, obj: 0.9, cls: [0.7, 0, 0, 0] }, // IoU 0.6 with the first, weaker
      { a: anchor(8, 40, 40), raw, obj: 0.9, cls: [0, 0.5, 0, 0] }, // far away
    ]);
    const d = decodeYolox(out, C, grid, LB, { ...OPTS, agnostic: true });
    expect(Array.from(d.classId)).toEqual([3, 1]);
    expect(decodeYolox(out, C, grid, LB, { ...OPTS, agnostic: true, iou: 0.7 }).count).toBe(3);
  });

  it('clips to the frame and drops boxes that lie wholly in the padding', () => {
    const out = head([
      { a: anchor(32, 0, 0), raw: [0, 0, Math.log(2), Math.log(2)], obj: 0.9, cls: [0.9, 0, 0, 0] }, // -32..32
      { a: anchor(32, 6, 12), raw: [0, 0.5, 0, 0], obj: 0.9, cls: [0.9, 0, 0, 0] }, // y 384–416 > 312
    ]);
    const d = decodeYolox(out, C, grid, LB, OPTS);
    expect(d.count).toBe(1);
    const [x1, y1, x2, y2] = boxes(d)[0]!;
    expect([x1, y1]).toEqual([0, 0]);
    expect(x2).toBeCloseTo(32 * (768 / 416), 3);
    expect(y2).toBeCloseTo(32 * (768 / 416), 3);
  });

  it('caps the count at maxDetections, keeping the best', () => {
    const rows = Array.from({ length: 20 }, (_, i) => ({
      a: anchor(8, 2 * i, 0),
      raw: [0, 0, 0, 0] as [number, number, number, number],
      obj: 0.5 + i / 50,
      cls: [1, 0, 0, 0],
    }));
    const d = decodeYolox(head(rows), C, grid, LB, { ...OPTS, maxDetections: 5 });
    expect(d.count).toBe(5);
    expect(d.confidence[0]).toBeCloseTo(0.88, 6);
    expect(d.confidence[4]).toBeCloseTo(0.8, 6);
  });

  it('returns empty detections for an empty head', () => {
    expect(decodeYolox(head([]), C, grid, LB, OPTS).count).toBe(0);
  });
});

describe('createYoloxAdapter shape checks', () => {
  it('reads the input size from the metadata', () => {
    const a = createYoloxAdapter(IO);
    expect([a.format, a.inputWidth, a.inputHeight]).toEqual(['yolox', 416, 416]);
  });

  it.each([
    ['class count', { outputShape: [1, 3549, 85] }, /85 values per anchor, i\.e\. 80 classes, but the labels list 4/],
    ['anchor count', { outputShape: [1, 3600, 5 + C] }, /\[1, 3600, 9\], expected .* \[1, 3549, 9\]/],
    ['rank', { outputShape: [3549, 5 + C] }, /shape \[3549, 9\]/],
    ['input channels', { inputShape: [1, 1, 416, 416] }, /not \[1, 3, H, W\]/],
    ['dynamic input', { inputShape: [1, 3, 'height', 'width'] }, /dynamic/],
    ['stride multiple', { inputShape: [1, 3, 400, 416], outputShape: undefined }, /not a multiple of YOLOX stride 32/],
  ] as const)('rejects a wrong %s with a ModelError', (_n, patch, message) => {
    const make = () => createYoloxAdapter({ ...IO, ...patch } as ModelIo);
    expect(make).toThrow(ModelError);
    expect(make).toThrow(message);
  });

  it('accepts symbolic batch dims and checks the real output at postprocess', () => {
    const a = createYoloxAdapter({ ...IO, outputShape: ['batch', 3549, 5 + C] });
    expect(() => a.postprocess(new Float32Array(3549 * 85), [1, 3549, 85], LB, OPTS)).toThrow(/80 classes, but the labels list 4/);
    expect(() => a.postprocess(new Float32Array(10), [1, 3549, 5 + C], LB, OPTS)).toThrow(/holds 10 values/);
    expect(a.postprocess(new Float32Array(3549 * (5 + C)), [1, 3549, 5 + C], LB, OPTS).count).toBe(0);
  });
});
