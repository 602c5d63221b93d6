import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { iou, linearAssignment } from '../../src/tracking/matching.js';
import { initiate, predict, stateToXyxy, update, xyxyToXyah } from '../../src/tracking/kalman.js';

/** Reference: the best total cost over every way to pair rows with columns (pairs at or over the limit count as unpaired). */
function bruteForce(cost: number[][], limit: number): number {
  const rows = cost.length;
  const cols = cost[0]?.length ?? 0;
  let best = Infinity;
  const usedCols = new Array<boolean>(cols).fill(false);
  const walk = (r: number, total: number): void => {
    if (r === rows) return void (best = Math.min(best, total));
    walk(r + 1, total + limit); // row r unpaired
    for (let c = 0; c < cols; c++) {
      if (usedCols[c] || cost[r]![c]! >= limit) continue;
      usedCols[c] = true;
      walk(r + 1, total + cost[r]![c]!);
      usedCols[c] = false;
    }
  };
  walk(0, 0);
  return best;
}

describe('iou', () => {
  it.each([
    { a: [0, 0, 10, 10], b: [0, 0, 10, 10], expected: 1 },
    { a: [0, 0, 10, 10], b: [5, 0, 15, 10], expected: 50 / 150 },
    { a: [0, 0, 10, 10], b: [10, 0, 20, 10], expected: 0 },
    { a: [0, 0, 10, 10], b: [20, 20, 30, 30], expected: 0 },
    { a: [0, 0, 0, 10], b: [0, 0, 0, 10], expected: 0 },
  ])('$a vs $b = $expected', ({ a, b, expected }) => {
    expect(iou(a, 0, b, 0)).toBeCloseTo(expected, 9);
  });
});

describe('linearAssignment', () => {
  it('prefers the assignment that pairs everyone over the single best pair', () => {
    // Greedy would take (0,0)=0.1 and leave row 1 with nothing under the limit.
    const cost = Float64Array.from([0.1, 0.2, 0.3, 0.9]);
    expect(linearAssignment(cost, 2, 2, 0.8)).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });

  it('drops pairs at or over the limit, and handles empty and rectangular inputs', () => {
    expect(linearAssignment(Float64Array.from([0.9, 0.95]), 1, 2, 0.8)).toEqual([]);
    expect(linearAssignment(new Float64Array(0), 0, 3, 0.8)).toEqual([]);
    expect(linearAssignment(Float64Array.from([0.5, 0.1, 0.7]), 3, 1, 0.8)).toEqual([[1, 0]]);
  });

  it('property: matches the brute-force optimum, each row and column at most once', () => {
    const matrix = fc.integer({ min: 1, max: 5 }).chain((rows) =>
      fc.integer({ min: 1, max: 5 }).chain((cols) =>
        fc.array(fc.array(fc.double({ min: 0, max: 2, noNaN: true }), { minLength: cols, maxLength: cols }), { minLength: rows, maxLength: rows }),
      ),
    );
    fc.assert(
      fc.property(matrix, fc.double({ min: 0.05, max: 1, noNaN: true }), (cost, limit) => {
        const rows = cost.length;
        const cols = cost[0]!.length;
        const pairs = linearAssignment(Float64Array.from(cost.flat()), rows, cols, limit);
        expect(new Set(pairs.map((p) => p[0])).size).toBe(pairs.length);
        expect(new Set(pairs.map((p) => p[1])).size).toBe(pairs.length);
        for (const [r, c] of pairs) expect(cost[r]![c]!).toBeLessThan(limit);
        const total = pairs.reduce((s, [r, c]) => s + cost[r]![c]!, 0) + (rows - pairs.length) * limit;
        expect(total).toBeCloseTo(bruteForce(cost, limit), 9);
      }),
      { numRuns: 300 },
    );
  });
});

describe('kalman', () => {
  it('learns a constant velocity and extrapolates it', () => {
    const z = new Float64Array(4);
    xyxyToXyah(0, 0, 20, 40, z);
    const s = initiate(z);
    for (let f = 1; f <= 30; f++) {
      predict(s, 1);
      xyxyToXyah(3 * f, -2 * f, 20 + 3 * f, 40 - 2 * f, z);
      update(s, z);
    }
    expect(s.mean[4]).toBeCloseTo(3, 1);
    expect(s.mean[5]).toBeCloseTo(-2, 1);
    const [x1, y1, x2, y2] = stateToXyxy(s, 10);
    expect(x1).toBeCloseTo(120, 0);
    expect(y1).toBeCloseTo(-80, 0);
    expect(x2 - x1).toBeCloseTo(20, 1);
    expect(y2 - y1).toBeCloseTo(40, 1);
  });

  it('a step of dt frames moves as far as dt steps of one frame', () => {
    const z = new Float64Array([50, 50, 0.5, 40]);
    const one = initiate(z);
    one.mean[4] = 2;
    const many = initiate(z);
    many.mean[4] = 2;
    predict(one, 5);
    for (let i = 0; i < 5; i++) predict(many, 1);
    expect(one.mean[0]).toBeCloseTo(many.mean[0]!, 9);
    // Uncertainty grows with time either way.
    expect(one.cov[0]!).toBeGreaterThan(initiate(z).cov[0]!);
  });

  it('a zero or negative step changes nothing', () => {
    const s = initiate(new Float64Array([1, 2, 0.5, 10]));
    const before = [Array.from(s.mean), Array.from(s.cov)];
    predict(s, 0);
    predict(s, -3);
    expect([Array.from(s.mean), Array.from(s.cov)]).toEqual(before);
  });
});
