import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { anchorPoint, crossesSegment, pointInPolygon, segmentsIntersect, signedDistance, toPixels, type Point } from '../../src/geometry.js';

const flat = (points: Point[]) => Float64Array.from(points.flat());

/** A concave "U": the notch between x 4..6 reaches down to y 6. */
const U = flat([
  [0, 0],
  [10, 0],
  [10, 10],
  [6, 10],
  [6, 4],
  [4, 4],
  [4, 10],
  [0, 10],
]);

describe('pointInPolygon', () => {
  it.each([
    { p: [2, 2], inside: true },
    { p: [5, 2], inside: true },
    { p: [5, 6], inside: false }, // in the notch
    { p: [8, 8], inside: true },
    { p: [11, 5], inside: false },
    { p: [-1, 5], inside: false },
    { p: [5, 4.0001], inside: false },
    { p: [5, 3.9999], inside: true },
    // A ray through vertices (y = 4 passes (6,4) and (4,4)) must not flip twice.
    { p: [2, 4], inside: true },
    { p: [8, 4], inside: true },
  ])('$p in the U: $inside', ({ p, inside }) => {
    expect(pointInPolygon(p[0]!, p[1]!, U)).toBe(inside);
  });

  it('property: agrees with a triangle-fan reference on star-shaped polygons', () => {
    // A star-shaped polygon around (0.5, 0.5): vertices at increasing angles, random radii. The reference tests
    // the point against each fan triangle (centre, v_i, v_i+1) with barycentric signs — a different method.
    const polygon = fc
      .array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 5, max: 45 })), { minLength: 3, maxLength: 12 })
      .map((vs) =>
        // Vertex i at angle (i + jitter) of n equal sectors: increasing, and no gap reaches 180° (jitter < 0.5),
        // so the polygon is simple and star-shaped around the centre.
        vs.map(([jitter, r], i) => {
          const a = ((i + jitter / 100) * 2 * Math.PI) / vs.length;
          return [0.5 + (r / 100) * Math.cos(a), 0.5 + (r / 100) * Math.sin(a)] as Point;
        }),
      );
    const inTriangle = (p: Point, a: Point, b: Point, c: Point) => {
      const s = (u: Point, v: Point) => (v[0] - u[0]) * (p[1] - u[1]) - (v[1] - u[1]) * (p[0] - u[0]);
      const d1 = s(a, b), d2 = s(b, c), d3 = s(c, a);
      return (d1 >= 0 && d2 >= 0 && d3 >= 0) || (d1 <= 0 && d2 <= 0 && d3 <= 0);
    };
    const distToEdge = (p: Point, a: Point, b: Point) => {
      const dx = b[0] - a[0], dy = b[1] - a[1];
      const t = Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)));
      return Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy);
    };
    const point = fc.tuple(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 10_000 })).map(([x, y]) => [x / 10_000, y / 10_000] as Point);
    fc.assert(
      fc.property(polygon, point, (vs, p) => {
        const edges = vs.map((v, i) => [v, vs[(i + 1) % vs.length]!] as const);
        // Points on or next to the boundary are ambiguous for any method: skip them.
        fc.pre(edges.every(([a, b]) => distToEdge(p, a, b) > 1e-6));
        const reference = edges.some(([a, b]) => inTriangle(p, [0.5, 0.5], a, b));
        expect(pointInPolygon(p[0], p[1], flat(vs))).toBe(reference);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('signedDistance', () => {
  // Seen on the image (y down), looking from a to b: right is positive, left negative.
  it.each([
    { what: 'below a left→right line is right', a: [0, 0], b: [10, 0], p: [5, 3], expected: 3 },
    { what: 'above a left→right line is left', a: [0, 0], b: [10, 0], p: [5, -2], expected: -2 },
    { what: 'left of a downward line is its right (x smaller)', a: [0, 0], b: [0, 10], p: [-4, 5], expected: 4 },
    { what: 'on the line is 0', a: [0, 0], b: [10, 10], p: [3, 3], expected: 0 },
    { what: 'beyond the end still has a side (the line is infinite here)', a: [0, 0], b: [10, 0], p: [50, 1], expected: 1 },
  ])('$what', ({ a, b, p, expected }) => {
    expect(signedDistance(a[0]!, a[1]!, b[0]!, b[1]!, p[0]!, p[1]!)).toBeCloseTo(expected, 9);
  });
});

describe('crossesSegment', () => {
  it.each([
    { what: 'through the middle', p: [5, -1], q: [5, 1], expected: true },
    { what: 'through an end point', p: [0, -1], q: [0, 1], expected: true },
    { what: 'through the extension', p: [11, -1], q: [11, 1], expected: false },
    { what: 'stays on one side', p: [5, 1], q: [6, 2], expected: false },
    { what: 'ends on the line', p: [5, -1], q: [5, 0], expected: false },
    // Found by the property below: the move meets the line exactly at an end, where interpolation rounded outside.
    { what: 'exactly through an end, slanted', a: [-30, 2], b: [0, 0], p: [-20, 22], q: [-49, -36], expected: true },
  ])('$what: $expected', ({ a = [0, 0], b = [10, 0], p, q, expected }) => {
    expect(crossesSegment(a[0]!, a[1]!, b[0]!, b[1]!, p[0]!, p[1]!, q[0]!, q[1]!)).toBe(expected);
  });

  it('property: for moves between opposite sides, agrees with a general segment intersection test', () => {
    const pt = fc.tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: -50, max: 50 }));
    fc.assert(
      fc.property(pt, pt, pt, pt, (a, b, p, q) => {
        fc.pre(a[0] !== b[0] || a[1] !== b[1]);
        const dp = signedDistance(a[0], a[1], b[0], b[1], p[0], p[1]);
        const dq = signedDistance(a[0], a[1], b[0], b[1], q[0], q[1]);
        fc.pre(dp !== 0 && dq !== 0 && dp > 0 !== dq > 0);
        expect(crossesSegment(a[0], a[1], b[0], b[1], p[0], p[1], q[0], q[1])).toBe(segmentsIntersect(a, b, p, q));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('anchorPoint and toPixels', () => {
  const box = [10, 20, 30, 60];
  it.each([
    { anchor: 'bottom_center', expected: [20, 60] },
    { anchor: 'center', expected: [20, 40] },
    { anchor: 'top_center', expected: [20, 20] },
    { anchor: 'center_left', expected: [10, 40] },
    { anchor: 'center_right', expected: [30, 40] },
    { anchor: 'top_left', expected: [10, 20] },
    { anchor: 'top_right', expected: [30, 20] },
    { anchor: 'bottom_left', expected: [10, 60] },
    { anchor: 'bottom_right', expected: [30, 60] },
  ] as const)('$anchor', ({ anchor, expected }) => {
    expect(anchorPoint(box, 0, anchor)).toEqual(expected);
  });

  it('scales x by the width and y by the height', () => {
    expect(Array.from(toPixels([[0.5, 0.25], [1, 1]], 1920, 1080))).toEqual([960, 270, 1920, 1080]);
  });
});
