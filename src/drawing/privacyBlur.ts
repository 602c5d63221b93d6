/**
 * Privacy masking: the boxes of chosen classes (people, licence plates) are pixelated in place before
 * anything else is drawn. Pixelation rather than a blur: one averaging pass per block is far cheaper
 * than a wide box blur, and with blocks of an eighth of the box a face is one or two flat squares.
 */
import type { Detections } from '../detections.js';
import { planes, type FramePixels } from './yuv.js';

export interface PrivacyBlurOptions {
  width: number;
  height: number;
  /** Class ids whose boxes are masked. */
  classIds: readonly number[];
  /** Smallest block edge in pixels; default height/90 (12 at 1080p), at least 4, always even. */
  minBlock?: number;
}

export interface PrivacyBlur {
  /** Pixelate every box of a masked class in `detections`; true when at least one was. */
  draw(frame: FramePixels, detections: Detections): boolean;
}

const evenUp = (v: number): number => Math.ceil(v / 2) * 2;

/** Block edge for a box: an eighth of its shorter side (a head is about that), never below `minBlock`. */
export function blockSize(boxW: number, boxH: number, minBlock: number): number {
  return Math.max(minBlock, evenUp(Math.min(boxW, boxH) / 8));
}

/** Average of the samples in [x0, x1) x [y0, y1) of a plane with row stride `stride`, written back to all of them. */
function flatten(px: Uint8Array, base: number, stride: number, x0: number, y0: number, x1: number, y1: number): void {
  let sum = 0;
  for (let y = y0; y < y1; y++) for (let i = base + y * stride + x0, e = base + y * stride + x1; i < e; i++) sum += px[i]!;
  const n = (x1 - x0) * (y1 - y0);
  const v = Math.round(sum / n);
  for (let y = y0; y < y1; y++) px.fill(v, base + y * stride + x0, base + y * stride + x1);
}

/**
 * Pixelate [x1, x2) x [y1, y2) with square blocks of edge `block` (even). The box is widened to even
 * coordinates and the block grid starts at its corner, so every luma block maps onto whole chroma
 * blocks and colour cannot leak across block edges; the frame edge clips the last blocks.
 */
export function pixelateRect(f: FramePixels, x1: number, y1: number, x2: number, y2: number, block: number): void {
  if (!(Number.isFinite(x1) && Number.isFinite(y1) && Number.isFinite(x2) && Number.isFinite(y2))) return;
  const W = f.width;
  const H = f.height;
  const b = Math.max(2, evenUp(block) || 2);
  // Clamped far outside the frame first: with a wild coordinate the grid arithmetic below would lose
  // integer precision and the loops would run for ever.
  const lim = 1 << 20;
  x1 = Math.max(-lim, Math.min(lim, x1));
  x2 = Math.max(-lim, Math.min(lim, x2));
  y1 = Math.max(-lim, Math.min(lim, y1));
  y2 = Math.max(-lim, Math.min(lim, y2));
  const bx0 = Math.floor(Math.min(x1, x2) / 2) * 2;
  const by0 = Math.floor(Math.min(y1, y2) / 2) * 2;
  const bx1 = Math.min(W, evenUp(Math.max(x1, x2)));
  const by1 = Math.min(H, evenUp(Math.max(y1, y2)));
  // The grid is anchored at the box corner. For a box hanging over the left/top edge, start at the
  // last grid line before 0; that first block is averaged over its in-frame part only.
  const sx = bx0 >= 0 ? bx0 : bx0 + Math.floor(-bx0 / b) * b;
  const sy = by0 >= 0 ? by0 : by0 + Math.floor(-by0 / b) * b;
  const p = planes(f);
  const { uOff, vOff, cw, ch } = p;
  const px = f.pixels;
  for (let y = sy; y < by1; y += b) {
    const ya = Math.max(0, y);
    const yb = Math.min(by1, y + b);
    if (yb <= ya) continue;
    for (let x = sx; x < bx1; x += b) {
      const xa = Math.max(0, x);
      const xb = Math.min(bx1, x + b);
      if (xb <= xa) continue;
      flatten(px, 0, W, xa, ya, xb, yb);
      // Chroma block of this luma block: xa, ya are even, so halving maps it exactly.
      const cxa = xa >> 1;
      const cya = ya >> 1;
      const cxb = Math.min(cw, (xb + 1) >> 1);
      const cyb = Math.min(ch, (yb + 1) >> 1);
      flatten(px, uOff, cw, cxa, cya, cxb, cyb);
      flatten(px, vOff, cw, cxa, cya, cxb, cyb);
    }
  }
}

export function createPrivacyBlur(opts: PrivacyBlurOptions): PrivacyBlur {
  const masked = new Set(opts.classIds);
  const minBlock = Math.max(4, evenUp(opts.minBlock ?? opts.height / 90));
  return {
    draw(frame, d) {
      if (masked.size === 0) return false;
      let any = false;
      for (let i = 0; i < d.count; i++) {
        if (!masked.has(d.classId[i]!)) continue;
        const x1 = d.xyxy[4 * i]!;
        const y1 = d.xyxy[4 * i + 1]!;
        const x2 = d.xyxy[4 * i + 2]!;
        const y2 = d.xyxy[4 * i + 3]!;
        pixelateRect(frame, x1, y1, x2, y2, blockSize(Math.abs(x2 - x1), Math.abs(y2 - y1), minBlock));
        any = true;
      }
      return any;
    },
  };
}
