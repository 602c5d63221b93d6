import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { polygonSelfIntersection, type Point } from '../../src/geometry.js';
import { rulesConfigSchema } from '../../src/config/rules.js';

const SEED = 20_240_612;

/** A convex polygon: n points on a circle at increasing angles, each in its own sector (so all distinct). */
const convex = fc.integer({ min: 4, max: 16 }).chain((n) =>
  fc.array(fc.double({ min: 0.05, max: 0.95, noNaN: true }), { minLength: n, maxLength: n }).map((jitter) =>
    jitter.map((j, i): Point => {
      const a = ((i + j) / n) * 2 * Math.PI;
      return [0.5 + 0.4 * Math.cos(a), 0.5 + 0.4 * Math.sin(a)];
    }),
  ),
);

/** Star-shaped around the centre: increasing angles, random radii; simple whatever the radii. */
const star = fc.integer({ min: 4, max: 16 }).chain((n) =>
  fc
    .array(fc.tuple(fc.double({ min: 0.05, max: 0.95, noNaN: true }), fc.double({ min: 0.05, max: 0.45, noNaN: true })), {
      minLength: n,
      maxLength: n,
    })
    .map((v) =>
      v.map(([j, r], i): Point => {
        const a = ((i + j) / n) * 2 * Math.PI;
        return [0.5 + r * Math.cos(a), 0.5 + r * Math.sin(a)];
      }),
    ),
);

/** Small integer grids make collinear points, shared vertices and touching edges common. */
// Distinct points: a repeat could rotate into a ring closed on its first point, the one accepted repeat.
const gridPolygon = fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 })), {
  minLength: 3,
  maxLength: 8,
  selector: ([x, y]) => `${x},${y}`,
});

describe('polygonSelfIntersection', () => {
  it.each<{ what: string; points: Point[]; expected: ReturnType<typeof polygonSelfIntersection> }>([
    { what: 'a square', points: [[0, 0], [1, 0], [1, 1], [0, 1]], expected: undefined },
    { what: 'a concave U', points: [[0, 0], [10, 0], [10, 10], [6, 10], [6, 4], [4, 4], [4, 10], [0, 10]], expected: undefined },
    { what: 'a square closed GeoJSON-style', points: [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], expected: undefined },
    { what: 'a bow tie', points: [[0, 0], [1, 1], [1, 0], [0, 1]], expected: { kind: 'edges_meet', edgeA: 0, edgeB: 2 } },
    { what: 'an asymmetric bow tie', points: [[0, 0], [0.9, 0.8], [0.9, 0.1], [0.1, 0.7]], expected: { kind: 'edges_meet', edgeA: 0, edgeB: 2 } },
    { what: 'a corner touching an edge', points: [[0, 0], [1, 0], [1, 1], [0.5, 0], [0, 1]], expected: { kind: 'edges_meet', edgeA: 0, edgeB: 2 } },
    { what: 'a spike folding back', points: [[0, 0], [1, 0], [0.5, 0], [0.5, 1]], expected: { kind: 'edges_meet', edgeA: 0, edgeB: 1 } },
    { what: 'a repeated point', points: [[0, 0], [1, 0], [0, 0], [1, 1], [0, 1]], expected: { kind: 'repeated_point', first: 0, second: 2 } },
  ])('$what', ({ points, expected }) => {
    expect(polygonSelfIntersection(points)).toEqual(expected);
  });

  it('property: convex and star-shaped polygons are simple', () => {
    fc.assert(
      fc.property(fc.oneof(convex, star), (p) => polygonSelfIntersection(p) === undefined),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('property: swapping two neighbouring corners of a convex polygon makes it cross itself', () => {
    // The two new edges are the diagonals of a convex quadrilateral, which always cross.
    fc.assert(
      fc.property(convex, fc.nat(), (p, k) => {
        const i = k % p.length;
        const j = (i + 1) % p.length;
        const q = [...p];
        [q[i], q[j]] = [q[j]!, q[i]!];
        return polygonSelfIntersection(q)?.kind === 'edges_meet';
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('property: the answer does not depend on the starting point or the direction', () => {
    fc.assert(
      fc.property(fc.oneof(gridPolygon, star), fc.nat(), (p, k) => {
        const s = k % p.length;
        const rotated = [...p.slice(s), ...p.slice(0, s)];
        const reversed = [...p].reverse();
        const simple = polygonSelfIntersection(p) === undefined;
        return (polygonSelfIntersection(rotated) === undefined) === simple && (polygonSelfIntersection(reversed) === undefined) === simple;
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});

describe('rules config zones', () => {
  const rule = (zone: unknown) => [{ id: 'door', type: 'zone_presence', zone }];

  it('refuses a self-intersecting zone, naming the rule and the edges', () => {
    const r = rulesConfigSchema.safeParse([...rule([[0.1, 0.1], [0.2, 0.2], [0.2, 0.1]]), { id: 'x', type: 'zone_dwell', zone: [[0, 0], [1, 1], [1, 0], [0, 1]] }]);
    expect(r.success).toBe(false);
    const issue = r.error!.issues[0]!;
    expect(issue.path).toEqual([1, 'zone']);
    expect(issue.message).toMatch(/crosses or touches itself: edge 0 \(point 0 → point 1\) meets edge 2 \(point 2 → point 3\)/);
  });

  it('still calls points on one line "no area", and accepts a ring closed on its first point', () => {
    const line = rulesConfigSchema.safeParse(rule([[0, 0], [0.5, 0.5], [1, 1]]));
    expect(line.error?.issues[0]?.message).toMatch(/no area/);
    expect(rulesConfigSchema.safeParse(rule([[0, 0], [1, 0], [1, 1], [0, 0]])).success).toBe(true);
  });
});
