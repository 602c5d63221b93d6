/**
 * Shapes beyond rectangles, written straight into a yuv420p frame: filled polygons (scanline, even-odd),
 * thick segments and polylines, discs. Every shape goes through ONE scanline filler, so clipping, odd
 * frame sizes and the chroma rule are handled in a single place.
 *
 * Geometry: coordinates are continuous, pixel (x, y) covers [x, x+1) x [y, y+1) (as detection boxes do),
 * and a pixel belongs to a shape when its centre does. Chroma follows yuv.ts: a 2x2 block takes the
 * colour when any of its luma pixels is inside; with alpha < 1 each touched sample is blended ONCE per
 * call, however many spans of a concave polygon touch it.
 */
import { planes, type FramePixels, type YuvColor } from './yuv.js';

// Scratch shared by all calls (nothing here re-enters): grown when a bigger polygon or frame comes,
// never per frame.
let crossings = new Float64Array(64);
let chromaMark = new Uint8Array(0);
const quad = new Float64Array(8);
const seg = new Float64Array(4);
const DISC_SIDES = 16;
const disc = new Float64Array(2 * DISC_SIDES);
const COS = Float64Array.from({ length: DISC_SIDES }, (_, i) => Math.cos((2 * Math.PI * (i + 0.5)) / DISC_SIDES));
const SIN = Float64Array.from({ length: DISC_SIDES }, (_, i) => Math.sin((2 * Math.PI * (i + 0.5)) / DISC_SIDES));

/** Alpha 0–1 as the 8.8 fixed-point factor blendRect uses (256 = opaque). */
export const fixedAlpha = (alpha: number): number => Math.round(Math.min(1, Math.max(0, alpha)) * 256);

/**
 * Fill the polygon of `n` vertices stored flat as x0, y0, x1, y1, … in `xy` (even-odd rule, so a
 * self-intersecting outline leaves holes, the same test a point-in-zone check does). `alpha` < 1 blends.
 * Vertices may lie anywhere, off-frame included; a non-finite vertex makes the whole polygon a no-op.
 */
export function fillPolygon(f: FramePixels, xy: ArrayLike<number>, n: number, c: YuvColor, alpha = 1): void {
  fillPolygonFixed(f, xy, n, c, fixedAlpha(alpha));
}

/**
 * fillPolygon with alpha as an integer 0–256 (fixedAlpha). For callers drawing hundreds of shapes a
 * frame (trails): V8 boxes a fractional number passed to a call that is not inlined, a small integer
 * it does not, so this keeps those loops free of garbage.
 */
export function fillPolygonFixed(f: FramePixels, xy: ArrayLike<number>, n: number, c: YuvColor, a: number): void {
  if (n < 3 || xy.length < 2 * n || !(a > 0)) return;
  if (a > 256) a = 256;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = xy[2 * i]!;
    const y = xy[2 * i + 1]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const W = f.width;
  const H = f.height;
  // Rows whose centre y + 0.5 lies in [minY, maxY).
  const y0 = Math.max(0, Math.ceil(minY - 0.5));
  const y1 = Math.min(H, Math.ceil(maxY - 0.5));
  if (y1 <= y0) return;
  const p = planes(f);
  const uOff = p.uOff;
  const vOff = p.vOff;
  const cw = p.cw;
  if (crossings.length < n) crossings = new Float64Array(n * 2);
  if (chromaMark.length < cw) chromaMark = new Uint8Array(cw);
  const px = f.pixels;
  const cy = c.y;

  // Row pairs share a chroma row: mark the blocks both rows touch, then blend each marked block once.
  for (let crow = y0 >> 1, crowEnd = (y1 + 1) >> 1; crow < crowEnd; crow++) {
    let cmin = cw;
    let cmax = -1;
    for (let row = Math.max(y0, crow * 2), rowEnd = Math.min(y1, crow * 2 + 2); row < rowEnd; row++) {
      const yc = row + 0.5;
      let k = 0;
      for (let i = 0, j = n - 1; i < n; j = i++) {
        const yi = xy[2 * i + 1]!;
        const yj = xy[2 * j + 1]!;
        // Half-open in y: a vertex exactly on the scanline counts for one of its two edges only.
        if (yi <= yc !== yj <= yc) {
          const xi = xy[2 * i]!;
          crossings[k++] = xi + ((yc - yi) * (xy[2 * j]! - xi)) / (yj - yi);
        }
      }
      // Insertion sort: zones have a handful of vertices, and this allocates nothing.
      for (let s = 1; s < k; s++) {
        const v = crossings[s]!;
        let t = s - 1;
        while (t >= 0 && crossings[t]! > v) {
          crossings[t + 1] = crossings[t]!;
          t--;
        }
        crossings[t + 1] = v;
      }
      const base = row * W;
      for (let s = 0; s + 1 < k; s += 2) {
        // Pixels whose centre x + 0.5 lies in [xa, xb).
        const xa = Math.max(0, Math.min(W, Math.ceil(crossings[s]! - 0.5)));
        const xb = Math.max(0, Math.min(W, Math.ceil(crossings[s + 1]! - 0.5)));
        if (xb <= xa) continue;
        if (a === 256) {
          for (let i = base + xa, end = base + xb; i < end; i++) px[i] = cy;
        } else {
          for (let i = base + xa, end = base + xb; i < end; i++) px[i] = px[i]! + (((cy - px[i]!) * a + 128) >> 8);
        }
        const c0 = xa >> 1;
        const c1 = (xb + 1) >> 1;
        for (let q = c0; q < c1; q++) chromaMark[q] = 1;
        if (c0 < cmin) cmin = c0;
        if (c1 - 1 > cmax) cmax = c1 - 1;
      }
    }
    const o = crow * cw;
    for (let q = cmin; q <= cmax; q++) {
      if (chromaMark[q] === 0) continue;
      chromaMark[q] = 0;
      const iu = uOff + o + q;
      const iv = vOff + o + q;
      px[iu] = px[iu]! + (((c.u - px[iu]!) * a + 128) >> 8);
      px[iv] = px[iv]! + (((c.v - px[iv]!) * a + 128) >> 8);
    }
  }
}

/**
 * A straight segment `thickness` pixels wide, centred on (x1, y1)–(x2, y2), with flat (butt) ends. A
 * zero-length segment draws nothing: callers that want dots draw discs.
 */
export function drawSegment(
  f: FramePixels,
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  thickness: number,
  c: YuvColor,
  alpha = 1,
): void {
  seg[0] = x1;
  seg[1] = y1;
  seg[2] = x2;
  seg[3] = y2;
  drawSegmentFrom(f, seg, 0, 2, thickness, c, fixedAlpha(alpha));
}

/**
 * drawSegment from the points at indices i (x at pts[i], y at pts[i+1]) and j of an array, alpha as
 * 0–256: the endpoints never travel as call arguments, so a trail of hundreds of segments allocates
 * nothing (see fillPolygonFixed).
 */
export function drawSegmentFrom(
  f: FramePixels,
  pts: Float32Array | Float64Array,
  i: number,
  j: number,
  thickness: number,
  c: YuvColor,
  a: number,
): void {
  const x1 = pts[i]!;
  const y1 = pts[i + 1]!;
  const x2 = pts[j]!;
  const y2 = pts[j + 1]!;
  const dx = x2 - x1;
  const dy = y2 - y1;
  // sqrt, not Math.hypot: optimised code inlines sqrt, while hypot is a builtin call that boxes its
  // arguments (measured: ~30 bytes of garbage per segment).
  const len = Math.sqrt(dx * dx + dy * dy);
  if (!(len > 0) || !Number.isFinite(len)) return;
  const h = Math.max(1, thickness) / 2;
  const nx = (-dy / len) * h;
  const ny = (dx / len) * h;
  quad[0] = x1 + nx;
  quad[1] = y1 + ny;
  quad[2] = x2 + nx;
  quad[3] = y2 + ny;
  quad[4] = x2 - nx;
  quad[5] = y2 - ny;
  quad[6] = x1 - nx;
  quad[7] = y1 - ny;
  fillPolygonFixed(f, quad, 4, c, a);
}

/** Filled disc of radius r around (cx, cy), as a 16-gon (round enough at marker sizes). */
export function fillDisc(f: FramePixels, cx: number, cy: number, r: number, c: YuvColor, alpha = 1): void {
  if (!(r > 0)) return;
  for (let i = 0; i < DISC_SIDES; i++) {
    disc[2 * i] = cx + r * COS[i]!;
    disc[2 * i + 1] = cy + r * SIN[i]!;
  }
  fillPolygon(f, disc, DISC_SIDES, c, alpha);
}

/**
 * Segments through the first `n` points of `xy` (flat x, y pairs), closed back to the first when
 * `closed`. Opaque polylines get round joins (a disc per vertex) so thick corners have no notch;
 * translucent ones skip them, because a join blended on top of two segment ends would show as a dot.
 */
export function drawPolyline(
  f: FramePixels,
  xy: ArrayLike<number>,
  n: number,
  closed: boolean,
  thickness: number,
  c: YuvColor,
  alpha = 1,
): void {
  if (n < 2 || xy.length < 2 * n) return;
  const segs = closed ? n : n - 1;
  for (let i = 0; i < segs; i++) {
    const j = (i + 1) % n;
    drawSegment(f, xy[2 * i]!, xy[2 * i + 1]!, xy[2 * j]!, xy[2 * j + 1]!, thickness, c, alpha);
  }
  if (fixedAlpha(alpha) < 256 || thickness < 2) return;
  const r = thickness / 2;
  for (let i = closed ? 0 : 1, end = closed ? n : n - 1; i < end; i++) fillDisc(f, xy[2 * i]!, xy[2 * i + 1]!, r, c);
}
