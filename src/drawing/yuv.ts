/**
 * Drawing primitives that write straight into a planar yuv420p buffer (Y plane, then U, then V; the
 * chroma planes are ceil(w/2) x ceil(h/2)). Everything is clipped to the frame, so callers may pass
 * boxes that stick out, have odd sizes or odd coordinates.
 *
 * Chroma rule: a 2x2 chroma block takes the colour when ANY of its luma pixels is drawn. That keeps a
 * 1-pixel line visibly coloured; callers that want crisp colour edges align to even coordinates.
 */
import { yuv420pSize } from '../frame.js';

/** The part of a frame the drawing code needs (FrameRecord satisfies it). */
export interface FramePixels {
  readonly pixels: Uint8Array;
  readonly width: number;
  readonly height: number;
}

export interface YuvColor {
  readonly y: number;
  readonly u: number;
  readonly v: number;
}

export interface RgbColor {
  readonly r: number;
  readonly g: number;
  readonly b: number;
}

/** Offsets of the three planes. */
export interface Planes {
  uOff: number;
  vOff: number;
  cw: number;
  ch: number;
}

// One shared result object for planes() and clip(): these run several times per box per frame and
// nothing here re-enters, so reusing them keeps the per-frame path free of garbage.
const P: Planes = { uOff: 0, vOff: 0, cw: 0, ch: 0 };
const R = new Int32Array(4);

/**
 * Plane offsets of a frame after checking its buffer is long enough. The result is ONE shared object,
 * overwritten by the next call: read what you need from it before calling any other drawing function.
 */
export function planes(f: FramePixels): Planes {
  // A short buffer would make every write below silently land nowhere (typed arrays ignore
  // out-of-range stores) or, for a pooled Buffer slice, on someone else's bytes: refuse it loudly.
  if (f.pixels.length < yuv420pSize(f)) {
    throw new RangeError(`frame buffer has ${f.pixels.length} bytes, yuv420p ${f.width}x${f.height} needs ${yuv420pSize(f)}`);
  }
  P.cw = (f.width + 1) >> 1;
  P.ch = (f.height + 1) >> 1;
  P.uOff = f.width * f.height;
  P.vOff = P.uOff + P.cw * P.ch;
  return P;
}

function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

/**
 * RGB (0–255, gamma-encoded) to BT.601 limited-range YUV: the matrix ffmpeg's swscale uses by default
 * for rgb24 -> yuv420p, so colours drawn here look the same as if ffmpeg had converted an RGB overlay.
 */
export function rgbToYuv(r: number, g: number, b: number): YuvColor {
  const R = r / 255;
  const G = g / 255;
  const B = b / 255;
  return {
    y: clampByte(16 + 65.481 * R + 128.553 * G + 24.966 * B),
    u: clampByte(128 - 37.797 * R - 74.203 * G + 112.0 * B),
    v: clampByte(128 + 112.0 * R - 93.786 * G - 18.214 * B),
  };
}

/** '#rrggbb' to RGB; throws on anything else so a typo in a palette fails at start, not as black boxes. */
export function hexToRgb(hex: string): RgbColor {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new RangeError(`not a #rrggbb colour: ${hex}`);
  return { r: parseInt(m[1]!, 16), g: parseInt(m[2]!, 16), b: parseInt(m[3]!, 16) };
}

export const WHITE: YuvColor = rgbToYuv(255, 255, 255);
export const BLACK: YuvColor = rgbToYuv(0, 0, 0);

/** Integer clip of [x, x+w) x [y, y+h) to the frame into R as x0, y0, x1, y1; false when empty. */
function clip(f: FramePixels, x: number, y: number, w: number, h: number): boolean {
  const x0 = Math.max(0, Math.floor(x));
  const y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(f.width, Math.floor(x + w));
  const y1 = Math.min(f.height, Math.floor(y + h));
  // NaN compares false everywhere, so a NaN box also ends here.
  if (!(x1 > x0 && y1 > y0)) return false;
  R[0] = x0;
  R[1] = y0;
  R[2] = x1;
  R[3] = y1;
  return true;
}

/** Solid fill of the rectangle at (x, y) of size w x h. */
export function fillRect(f: FramePixels, x: number, y: number, w: number, h: number, c: YuvColor): void {
  if (!clip(f, x, y, w, h)) return;
  const x0 = R[0]!;
  const y0 = R[1]!;
  const x1 = R[2]!;
  const y1 = R[3]!;
  const p = planes(f);
  const px = f.pixels;
  const W = f.width;
  for (let row = y0; row < y1; row++) span(px, c.y, row * W + x0, row * W + x1);
  const cx0 = x0 >> 1;
  const cx1 = (x1 + 1) >> 1;
  for (let cy = y0 >> 1, cyEnd = (y1 + 1) >> 1; cy < cyEnd; cy++) {
    const o = cy * p.cw;
    span(px, c.u, p.uOff + o + cx0, p.uOff + o + cx1);
    span(px, c.v, p.vOff + o + cx0, p.vOff + o + cx1);
  }
}

const typedFill = Uint8Array.prototype.fill;

/**
 * Set px[start, end) to v. The vertical sides of a box are thousands of 2–6 byte spans per frame:
 * a plain loop beats a fill() call there, and Buffer.fill's argument checks cost more again (measured:
 * 10 outlines at 1080p took 0.46 ms with Buffer.fill per row). Long spans use the typed-array fill.
 */
function span(px: Uint8Array, v: number, start: number, end: number): void {
  if (end - start <= 32) {
    for (let i = start; i < end; i++) px[i] = v;
  } else {
    typedFill.call(px, v, start, end);
  }
}

/**
 * Outline of the box with corners (x1, y1) and (x2, y2) (x2, y2 exclusive), `thickness` pixels wide,
 * drawn INSIDE the box: the line never covers the object's surroundings and a label tag placed at y1
 * sits flush on it. Sides that fall outside the frame are simply not drawn.
 */
export function strokeRect(
  f: FramePixels,
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  thickness: number,
  c: YuvColor,
): void {
  const w = x2 - x1;
  const h = y2 - y1;
  const t = Math.max(1, Math.floor(thickness));
  if (!(w > 0 && h > 0)) return;
  if (w <= 2 * t || h <= 2 * t) {
    fillRect(f, x1, y1, w, h, c); // too small to have a hole
    return;
  }
  fillRect(f, x1, y1, w, t, c);
  fillRect(f, x1, y2 - t, w, t, c);
  fillRect(f, x1, y1 + t, t, h - 2 * t, c);
  fillRect(f, x2 - t, y1 + t, t, h - 2 * t, c);
}

/** Translucent fill: every touched sample moves `alpha` (0–1) of the way towards the colour. */
export function blendRect(f: FramePixels, x: number, y: number, w: number, h: number, c: YuvColor, alpha: number): void {
  if (!clip(f, x, y, w, h)) return;
  const a = Math.round(Math.min(1, Math.max(0, alpha)) * 256);
  if (a === 0) return;
  const x0 = R[0]!;
  const y0 = R[1]!;
  const x1 = R[2]!;
  const y1 = R[3]!;
  const p = planes(f);
  const px = f.pixels;
  const W = f.width;
  // Fixed-point 8.8 blend: exact at a = 256, and no float per sample.
  for (let row = y0; row < y1; row++) {
    for (let i = row * W + x0, end = row * W + x1; i < end; i++) px[i] = px[i]! + (((c.y - px[i]!) * a + 128) >> 8);
  }
  const cx0 = x0 >> 1;
  const cx1 = (x1 + 1) >> 1;
  for (let cy = y0 >> 1, cyEnd = (y1 + 1) >> 1; cy < cyEnd; cy++) {
    for (let cx = cx0; cx < cx1; cx++) {
      const iu = p.uOff + cy * p.cw + cx;
      const iv = p.vOff + cy * p.cw + cx;
      px[iu] = px[iu]! + (((c.u - px[iu]!) * a + 128) >> 8);
      px[iv] = px[iv]! + (((c.v - px[iv]!) * a + 128) >> 8);
    }
  }
}

/** round(d * a / 255) for d in -255..255, a in 0..255, in integer ops (x/255 ~ x*257/65536). */
function blend255(d: number, a: number): number {
  return (d * a * 257 + 32768) >> 16;
}

/**
 * Blend a colour through an 8-bit coverage mask (glyphs): luma per pixel by its own coverage, each
 * chroma block by the mean coverage of its in-frame luma pixels, so anti-aliased edges stay soft in
 * colour too. The mask is w x h at `offset` in `mask` with row stride `stride`, placed at (x, y).
 */
export function blendMask(
  f: FramePixels,
  mask: Uint8Array,
  offset: number,
  stride: number,
  x: number,
  y: number,
  w: number,
  h: number,
  c: YuvColor,
): void {
  x = Math.floor(x);
  y = Math.floor(y);
  if (!clip(f, x, y, w, h)) return;
  const x0 = R[0]!;
  const y0 = R[1]!;
  const x1 = R[2]!;
  const y1 = R[3]!;
  const p = planes(f);
  const uOff = p.uOff;
  const vOff = p.vOff;
  const cw = p.cw;
  const px = f.pixels;
  const W = f.width;
  const H = f.height;
  const cY = c.y;
  const cU = c.u;
  const cV = c.v;
  for (let row = y0; row < y1; row++) {
    const m = offset + (row - y) * stride - x;
    const base = row * W;
    for (let col = x0; col < x1; col++) {
      const a = mask[m + col]!;
      if (a === 0) continue;
      const i = base + col;
      px[i] = px[i]! + blend255(cY - px[i]!, a);
    }
  }
  for (let cy = y0 >> 1, cyEnd = (y1 + 1) >> 1; cy < cyEnd; cy++) {
    const ry0 = y0 > cy * 2 ? y0 : cy * 2;
    const ry1 = y1 < cy * 2 + 2 ? y1 : cy * 2 + 2;
    const blockRows = (H < cy * 2 + 2 ? H : cy * 2 + 2) - cy * 2;
    // Text is drawn mostly over whole 2x2 blocks: those sum their four coverages directly.
    const fullRows = ry1 - ry0 === 2;
    const m0 = offset + (ry0 - y) * stride - x;
    const m1 = m0 + stride;
    const o = cy * cw;
    for (let cx = x0 >> 1, cxEnd = (x1 + 1) >> 1; cx < cxEnd; cx++) {
      const rx0 = x0 > cx * 2 ? x0 : cx * 2;
      const rx1 = x1 < cx * 2 + 2 ? x1 : cx * 2 + 2;
      let sum = 0;
      if (fullRows && rx1 - rx0 === 2) {
        sum = mask[m0 + rx0]! + mask[m0 + rx0 + 1]! + mask[m1 + rx0]! + mask[m1 + rx0 + 1]!;
      } else {
        for (let row = ry0; row < ry1; row++) {
          const m = offset + (row - y) * stride - x;
          for (let col = rx0; col < rx1; col++) sum += mask[m + col]!;
        }
      }
      if (sum === 0) continue;
      // Mean over the block's in-frame pixels (a block on an odd frame edge has only 1 or 2).
      const n = blockRows * ((W < cx * 2 + 2 ? W : cx * 2 + 2) - cx * 2);
      const a = n === 4 ? (sum + 2) >> 2 : Math.round(sum / n);
      const iu = uOff + o + cx;
      const iv = vOff + o + cx;
      px[iu] = px[iu]! + blend255(cU - px[iu]!, a);
      px[iv] = px[iv]! + blend255(cV - px[iv]!, a);
    }
  }
}

/**
 * Darken the whole picture to `factor` (0–1) of its brightness and saturation, as scaling RGB would:
 * luma moves towards black (16) and chroma towards grey (128) by the same factor. Used under a slate.
 */
export function dimFrame(pixels: Uint8Array, width: number, height: number, factor: number): void {
  const p = planes({ pixels, width, height });
  const k = Math.min(1, Math.max(0, factor));
  // Two 256-entry tables make the 3 MB pass at 1080p a lookup per byte.
  const lumaLut = new Uint8Array(256);
  const chromaLut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) {
    lumaLut[v] = clampByte(16 + (v - 16) * k);
    chromaLut[v] = clampByte(128 + (v - 128) * k);
  }
  const end = p.vOff + p.cw * p.ch;
  const lumaEnd = p.uOff;
  for (let i = 0; i < lumaEnd; i++) pixels[i] = lumaLut[pixels[i]!]!;
  for (let i = lumaEnd; i < end; i++) pixels[i] = chromaLut[pixels[i]!]!;
}

/** Read one pixel back as YUV (tests and samples; not for the hot path). */
export function readYuv(f: FramePixels, x: number, y: number): YuvColor {
  const p = planes(f);
  const ci = (y >> 1) * p.cw + (x >> 1);
  return { y: f.pixels[y * f.width + x]!, u: f.pixels[p.uOff + ci]!, v: f.pixels[p.vOff + ci]! };
}
