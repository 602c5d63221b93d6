import { yuv420pSize } from '../../src/frame.js';
import type { FramePixels } from '../../src/drawing/yuv.js';

export const SENTINEL = 0xa5;
const GUARD = 64;

/**
 * A flat-grey yuv420p frame whose pixels are a view into a larger buffer with guard bytes on both
 * sides, so a test can prove nothing was written outside the frame.
 */
export interface GuardedFrame extends FramePixels {
  readonly backing: Uint8Array;
  guardsIntact(): boolean;
}

export function makeFrame(width: number, height: number, fill = { y: 100, u: 128, v: 128 }): GuardedFrame {
  const size = yuv420pSize({ width, height });
  const backing = new Uint8Array(size + 2 * GUARD).fill(SENTINEL);
  const pixels = backing.subarray(GUARD, GUARD + size);
  const luma = width * height;
  pixels.fill(fill.y, 0, luma);
  const chroma = (size - luma) / 2;
  pixels.fill(fill.u, luma, luma + chroma);
  pixels.fill(fill.v, luma + chroma, size);
  return {
    pixels,
    width,
    height,
    backing,
    guardsIntact: () =>
      backing.subarray(0, GUARD).every((b) => b === SENTINEL) && backing.subarray(GUARD + size).every((b) => b === SENTINEL),
  };
}

export interface Planes {
  y: Uint8Array;
  u: Uint8Array;
  v: Uint8Array;
  cw: number;
  ch: number;
}

export function planesOf(f: FramePixels): Planes {
  const cw = Math.ceil(f.width / 2);
  const ch = Math.ceil(f.height / 2);
  const l = f.width * f.height;
  return {
    y: f.pixels.subarray(0, l),
    u: f.pixels.subarray(l, l + cw * ch),
    v: f.pixels.subarray(l + cw * ch, l + 2 * cw * ch),
    cw,
    ch,
  };
}

/** Luma coordinates whose value differs between two same-size frames. */
export function changedLuma(a: FramePixels, b: FramePixels): Set<string> {
  const out = new Set<string>();
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) if (a.pixels[y * a.width + x] !== b.pixels[y * b.width + x]) out.add(`${x},${y}`);
  }
  return out;
}

/** Chroma block coordinates where U or V differs. */
export function changedChroma(a: FramePixels, b: FramePixels): Set<string> {
  const pa = planesOf(a);
  const pb = planesOf(b);
  const out = new Set<string>();
  for (let cy = 0; cy < pa.ch; cy++) {
    for (let cx = 0; cx < pa.cw; cx++) {
      const i = cy * pa.cw + cx;
      if (pa.u[i] !== pb.u[i] || pa.v[i] !== pb.v[i]) out.add(`${cx},${cy}`);
    }
  }
  return out;
}

export function copyFrame(f: FramePixels): FramePixels {
  return { pixels: Uint8Array.from(f.pixels), width: f.width, height: f.height };
}

/** Reference model of the documented rule: the luma mask, and every chroma block touching it. */
export function expectedSets(width: number, height: number, inMask: (x: number, y: number) => boolean): { luma: Set<string>; chroma: Set<string> } {
  const luma = new Set<string>();
  const chroma = new Set<string>();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!inMask(x, y)) continue;
      luma.add(`${x},${y}`);
      chroma.add(`${x >> 1},${y >> 1}`);
    }
  }
  return { luma, chroma };
}

/** Pixel (x, y) lies on the inside stroke of box [x1,x2) x [y1,y2) of thickness t. */
export function onStroke(x: number, y: number, x1: number, y1: number, x2: number, y2: number, t: number): boolean {
  if (x < x1 || x >= x2 || y < y1 || y >= y2) return false;
  return x < x1 + t || x >= x2 - t || y < y1 + t || y >= y2 - t;
}

/** Reference even-odd test of a point against a flat [x0, y0, x1, y1, ...] polygon. */
export function insidePoly(px: number, py: number, poly: readonly number[]): boolean {
  let c = false;
  const n = poly.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = poly[2 * i]!;
    const yi = poly[2 * i + 1]!;
    const xj = poly[2 * j]!;
    const yj = poly[2 * j + 1]!;
    if (yi > py !== yj > py && px < xi + ((py - yi) * (xj - xi)) / (yj - yi)) c = !c;
  }
  return c;
}

/** Distance from (px, py) to the segment (ax, ay)-(bx, by). */
export function distToSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const l2 = dx * dx + dy * dy;
  const t = l2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / l2));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** Distance from a point to the nearest edge of a closed flat polygon. */
export function distToOutline(px: number, py: number, poly: readonly number[]): number {
  const n = poly.length / 2;
  let best = Infinity;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    best = Math.min(best, distToSegment(px, py, poly[2 * j]!, poly[2 * j + 1]!, poly[2 * i]!, poly[2 * i + 1]!));
  }
  return best;
}

/** "x,y" keys back to numbers. */
export function xyOf(key: string): [number, number] {
  const [x, y] = key.split(',').map(Number) as [number, number];
  return [x, y];
}
