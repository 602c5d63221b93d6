/**
 * Plane geometry for zones and lines, in source pixels (x right, y down). Configs hold fractions of the frame;
 * they are turned into pixels once per run with toPixels() so the per-frame tests are plain arithmetic.
 */
import type { Anchor } from '../config/rules.js';

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
  const t = dp / (dp - dq);
  const ix = px + t * (qx - px);
  const iy = py + t * (qy - py);
  const dx = bx - ax;
  const dy = by - ay;
  const s = ((ix - ax) * dx + (iy - ay) * dy) / (dx * dx + dy * dy);
  return s >= 0 && s <= 1;
}

/** Do the closed segments p1–p2 and q1–q2 share a point? (General test, used to check crossesSegment.) */
export function segmentsIntersect(p1: Point, p2: Point, q1: Point, q2: Point): boolean {
  const orient = (a: Point, b: Point, c: Point) => Math.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]));
  const onSegment = (a: Point, b: Point, c: Point) =>
    Math.min(a[0], b[0]) <= c[0] && c[0] <= Math.max(a[0], b[0]) && Math.min(a[1], b[1]) <= c[1] && c[1] <= Math.max(a[1], b[1]);
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
