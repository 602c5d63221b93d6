/**
 * Plane geometry for zones and lines, in source pixels (x right, y down). Configs hold fractions of the frame;
 * they are turned into pixels once per run with toPixels() so the per-frame tests are plain arithmetic.
 */
import type { Anchor } from './config/rules.js';

export type Point = readonly [number, number];

/** Normalised [x, y] points → flat pixel coordinates [x0, y0, x1, y1, …]. */
export function toPixels(points: readonly Point[], width: number, height: number): Float64Array {
  const out = new Float64Array(points.length * 2);
  points.forEach(([x, y], i) => {
    out[2 * i] = x * width;
    out[2 * i + 1] = y * height;
  });
  return out;
}

/**
 * Even-odd ray casting: is (x, y) inside the closed polygon `poly` (flat pixel coordinates)? A horizontal ray
 * to the right crosses the boundary an odd number of times from inside. The half-open comparison on y counts a
 * vertex shared by two edges once, so a ray through a vertex does not flip the answer twice.
 */
export function pointInPolygon(x: number, y: number, poly: ArrayLike<number>): boolean {
  const n = poly.length / 2;
  let inside = false;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = poly[2 * i]!, yi = poly[2 * i + 1]!;
    const xj = poly[2 * j]!, yj = poly[2 * j + 1]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * Signed distance of p from the infinite line through a → b, in pixels. Positive = RIGHT of the direction
 * a → b as seen on the image (y down), negative = LEFT. Example: for a line drawn left to right, points
 * below it (larger y) are positive.
 */
export function signedDistance(ax: number, ay: number, bx: number, by: number, px: number, py: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len = Math.hypot(dx, dy);
  if (len === 0) return 0;
  return (dx * (py - ay) - dy * (px - ax)) / len;
}

/**
 * Does the move p → q pass through the segment a–b itself (not its extension)? Both ends must lie strictly on
 * opposite sides of the line (the callers guarantee a margin); the point where p → q meets the line must fall
 * between a and b, ends included.
 */
export function crossesSegment(ax: number, ay: number, bx: number, by: number, px: number, py: number, qx: number, qy: number): boolean {
  const dp = signedDistance(ax, ay, bx, by, px, py);
  const dq = signedDistance(ax, ay, bx, by, qx, qy);
  if (dp === 0 || dq === 0 || dp > 0 === dq > 0) return false;
  // The meeting point lies between a and b, ends included, when a and b are not strictly on the same side of
  // the line p → q. Orientation signs, not an interpolated point: a move through an end exactly (integer
  // pixels do that) would otherwise land a rounding error outside the segment and be missed.
  const ex = qx - px;
  const ey = qy - py;
  const sa = ex * (ay - py) - ey * (ax - px);
  const sb = ex * (by - py) - ey * (bx - px);
  return !((sa > 0 && sb > 0) || (sa < 0 && sb < 0));
}

/** Which side of the line a → b point c lies on: 1 left, -1 right, 0 on it (image axes, y down). */
function orient(a: Point, b: Point, c: Point): number {
  return Math.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]));
}

/** Is c within the bounding box of a–b? (With orient(a, b, c) === 0: c lies on the closed segment.) */
function onSegment(a: Point, b: Point, c: Point): boolean {
  return Math.min(a[0], b[0]) <= c[0] && c[0] <= Math.max(a[0], b[0]) && Math.min(a[1], b[1]) <= c[1] && c[1] <= Math.max(a[1], b[1]);
}

/** Do the closed segments p1–p2 and q1–q2 share a point? (General test, used to check crossesSegment.) */
export function segmentsIntersect(p1: Point, p2: Point, q1: Point, q2: Point): boolean {
  const o1 = orient(p1, p2, q1), o2 = orient(p1, p2, q2), o3 = orient(q1, q2, p1), o4 = orient(q1, q2, p2);
  if (o1 !== o2 && o3 !== o4) return true;
  return (
    (o1 === 0 && onSegment(p1, p2, q1)) ||
    (o2 === 0 && onSegment(p1, p2, q2)) ||
    (o3 === 0 && onSegment(q1, q2, p1)) ||
    (o4 === 0 && onSegment(q1, q2, p2))
  );
}

/** The anchor point of box i of an xyxy array. */
export function anchorPoint(xyxy: ArrayLike<number>, i: number, anchor: Anchor): [number, number] {
  const x1 = xyxy[4 * i]!, y1 = xyxy[4 * i + 1]!, x2 = xyxy[4 * i + 2]!, y2 = xyxy[4 * i + 3]!;
  const cx = (x1 + x2) / 2;
  const cy = (y1 + y2) / 2;
  switch (anchor) {
    case 'bottom_center':
      return [cx, y2];
    case 'center':
      return [cx, cy];
    case 'top_center':
      return [cx, y1];
    case 'center_left':
      return [x1, cy];
    case 'center_right':
      return [x2, cy];
    case 'top_left':
      return [x1, y1];
    case 'top_right':
      return [x2, y1];
    case 'bottom_left':
      return [x1, y2];
    case 'bottom_right':
      return [x2, y2];
  }
}

/** Why a closed polygon is not simple (its boundary meets itself), naming points by index; undefined when simple. */
export type SelfIntersection =
  | { kind: 'repeated_point'; first: number; second: number }
  | { kind: 'edges_meet'; edgeA: number; edgeB: number };

/**
 * Does the closed polygon (edge i joins point i to point i+1, the last edge joins the last point to the first)
 * touch or cross itself? Such a "bow tie" has no clear inside: even-odd ray casting calls its overlap outside,
 * so a zone drawn that way silently misses objects. Checks every pair of edges (O(n²); zones have ≤ 100
 * points): edges that share no point must not meet at all, neighbours must meet only at their shared point
 * (a spike folding back along itself overlaps), and no point may repeat (except a last point equal to the first).
 */
export function polygonSelfIntersection(input: readonly Point[]): SelfIntersection | undefined {
  // A ring closed GeoJSON-style (last point = first) is the same polygon: its zero-length closing edge is harmless.
  const last = input[input.length - 1];
  const closed = input.length > 3 && last !== undefined && last[0] === input[0]![0] && last[1] === input[0]![1];
  const points = closed ? input.slice(0, -1) : input;
  const n = points.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (points[i]![0] === points[j]![0] && points[i]![1] === points[j]![1]) return { kind: 'repeated_point', first: i, second: j };
    }
  }
  if (n < 3) return undefined;
  const edge = (k: number): [Point, Point] => [points[k]!, points[(k + 1) % n]!];
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const [p1, p2] = edge(a);
      const [q1, q2] = edge(b);
      const adjacent = b === a + 1 || (a === 0 && b === n - 1);
      if (!adjacent) {
        if (segmentsIntersect(p1, p2, q1, q2)) return { kind: 'edges_meet', edgeA: a, edgeB: b };
        continue;
      }
      // Neighbours share one point; they overlap when the far end of one lies on the other (collinear fold).
      // A triangle's three edges are pairwise neighbours, so this also covers it.
      const [shared, farA, farB] = b === a + 1 ? [p2, p1, q2] : [p1, p2, q1];
      if ((orient(shared, farA, farB) === 0 && onSegment(shared, farA, farB)) || (orient(shared, farB, farA) === 0 && onSegment(shared, farB, farA))) {
        return { kind: 'edges_meet', edgeA: a, edgeB: b };
      }
    }
  }
  return undefined;
}
