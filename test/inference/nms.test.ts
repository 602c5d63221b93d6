import { describe, expect, it } from 'vitest';
import { iou, nmsClassAware } from '../../src/inference/nms.js';

/** Packs [x1, y1, x2, y2, score, class] rows into the parallel arrays nmsClassAware takes. */
function pack(rows: readonly (readonly [number, number, number, number, number, number])[]) {
  return {
    xyxy: Float32Array.from(rows.flatMap((r) => r.slice(0, 4))),
    scores: Float32Array.from(rows.map((r) => r[4])),
    classes: Int32Array.from(rows.map((r) => r[5])),
    count: rows.length,
  };
}

function run(rows: Parameters<typeof pack>[0], thr = 0.45): number[] {
  const p = pack(rows);
  return [...nmsClassAware(p.xyxy, p.scores, p.classes, p.count, thr)];
}

describe('iou', () => {
  it.each([
    ['identical', [0, 0, 10, 10, 0, 0, 10, 10], 1],
    ['disjoint', [0, 0, 10, 10, 20, 20, 30, 30], 0],
    ['touching edges', [0, 0, 10, 10, 10, 0, 20, 10], 0],
    ['half overlap', [0, 0, 10, 10, 5, 0, 15, 10], 50 / 150],
    ['contained', [0, 0, 10, 10, 0, 0, 5, 5], 25 / 100],
    ['degenerate', [0, 0, 0, 0, 0, 0, 0, 0], 0],
  ])('%s', (_name, boxes, expected) => {
    expect(iou(boxes, 0, 1)).toBeCloseTo(expected, 6);
  });
});

describe('nmsClassAware', () => {
  it('keeps the best of a same-class cluster and returns best first', () => {
    const kept = run([
      [0, 0, 10, 10, 0.6, 0],
      [1, 0, 11, 10, 0.9, 0], // IoU 0.82 with the first: suppresses it
      [50, 50, 60, 60, 0.7, 0], // apart: kept
    ]);
    expect(kept).toEqual([1, 2]);
  });

  it('never lets one class suppress another (class-aware)', () => {
    expect(run([
      [0, 0, 10, 10, 0.9, 0],
      [0, 0, 10, 10, 0.8, 2],
      [0, 0, 10, 10, 0.7, 0],
    ])).toEqual([0, 1]);
  });

  it('keeps a box whose IoU equals the threshold (only > suppresses)', () => {
    // IoU of these two is exactly 20/30 = 2/3.
    expect(iou([0, 0, 30, 10, 10, 0, 30, 10], 0, 1)).toBe(2 / 3);
    expect(run([[0, 0, 30, 10, 0.9, 0], [10, 0, 30, 10, 0.8, 0]], 2 / 3)).toEqual([0, 1]);
    expect(run([[0, 0, 30, 10, 0.9, 0], [10, 0, 30, 10, 0.8, 0]], 0.66)).toEqual([0]);
  });

  it('is greedy: a suppressed box does not suppress others', () => {
    // B overlaps A and C; A and C do not overlap. A wins, B goes, C stays.
    expect(run([
      [0, 0, 10, 10, 0.9, 1],
      [3, 0, 13, 10, 0.8, 1],
      [9, 0, 19, 10, 0.7, 1],
    ], 0.3)).toEqual([0, 2]);
  });

  it('breaks score ties by lower index, like OpenCV’s stable sort', () => {
    expect(run([
      [0, 0, 10, 10, 0.5, 0],
      [0, 0, 10, 10, 0.5, 0],
    ])).toEqual([0]);
  });

  it('handles no candidates', () => {
    expect(run([])).toEqual([]);
  });
});
