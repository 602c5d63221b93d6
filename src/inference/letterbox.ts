import { InternalError } from '../errors.js';
import { yuv420pSize } from '../frame.js';
import type { Letterbox, YuvFrame } from './adapter.js';

/** YOLOX's padding value (its preproc fills with 114, the mean grey it was trained with). */
export const PAD_VALUE = 114;

export function letterboxGeometry(srcWidth: number, srcHeight: number, dstWidth: number, dstHeight: number): Letterbox {
  const ratio = Math.min(dstWidth / srcWidth, dstHeight / srcHeight);
  // Truncation as in YOLOX's preproc (int(w * r)), so our content size equals the reference's.
  const contentWidth = Math.max(1, Math.min(dstWidth, Math.floor(srcWidth * ratio)));
  const contentHeight = Math.max(1, Math.min(dstHeight, Math.floor(srcHeight * ratio)));
  return { srcWidth, srcHeight, ratio, contentWidth, contentHeight };
}

/** Per output column (or row): the two source pixels, their chroma sample, and OpenCV's 11-bit weights. */
export interface AxisTable {
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly c0: Int32Array;
  readonly c1: Int32Array;
  readonly a0: Int32Array;
  readonly a1: Int32Array;
}

/** cvRound of a float: nearest, ties to even (SSE cvtss2si), which Math.round is not. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * OpenCV's INTER_LINEAR tables for 8-bit images (imgproc/resize.cpp): scale = 1 / (dst / src) in double,
 * f = float((d + 0.5) * scale - 0.5), s = floor(f); before the first pixel or past the last the sample
 * clamps with weight 0. Weights are cvRound((1 - fx) * 2048) and cvRound(fx * 2048), as cv2.resize
 * uses for uint8. No antialiasing: a 1080p frame is sampled, not averaged, exactly like the reference.
 * Chroma is the nearest 4:2:0 sample (i >> 1), as swscale's unscaled yuv→bgr24 path does.
 */
export function axisTable(srcSize: number, dstSize: number): AxisTable {
  const scale = 1 / (dstSize / srcSize);
  const t = {
    i0: new Int32Array(dstSize),
    i1: new Int32Array(dstSize),
    c0: new Int32Array(dstSize),
    c1: new Int32Array(dstSize),
    a0: new Int32Array(dstSize),
    a1: new Int32Array(dstSize),
  };
  for (let d = 0; d < dstSize; d++) {
    const f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    let w = Math.fround(f - s);
    if (s < 0) {
      s = 0;
      w = 0;
    }
    if (s >= srcSize - 1) {
      s = srcSize - 1;
      w = 0;
    }
    const s1 = Math.min(s + 1, srcSize - 1);
    t.i0[d] = s;
    t.i1[d] = s1;
    t.c0[d] = s >> 1;
    t.c1[d] = s1 >> 1;
    t.a0[d] = roundHalfEven(Math.fround(Math.fround(1 - w) * 2048));
    t.a1[d] = roundHalfEven(Math.fround(w * 2048));
  }
  return t;
}

export interface LetterboxTables {
  readonly lb: Letterbox;
  readonly dstWidth: number;
  readonly dstHeight: number;
  readonly x: AxisTable;
  readonly y: AxisTable;
}

// A run keeps one geometry for its life; a handful of cameras of different sizes share a process.
const tableCache = new Map<string, LetterboxTables>();
const TABLE_CACHE_MAX = 32;

export function letterboxTables(srcWidth: number, srcHeight: number, dstWidth: number, dstHeight: number): LetterboxTables {
  const key = `${srcWidth}x${srcHeight}>${dstWidth}x${dstHeight}`;
  let t = tableCache.get(key);
  if (!t) {
    const lb = letterboxGeometry(srcWidth, srcHeight, dstWidth, dstHeight);
    t = { lb, dstWidth, dstHeight, x: axisTable(srcWidth, lb.contentWidth), y: axisTable(srcHeight, lb.contentHeight) };
    if (tableCache.size >= TABLE_CACHE_MAX) tableCache.delete(tableCache.keys().next().value!);
    tableCache.set(key, t);
  }
  return t;
}

/*
 * BT.601 limited range → BGR, the conversion swscale applies by default to untagged video and so what
 * cv2.VideoCapture hands the reference: R = 1.164(Y-16) + 1.596(V-128), G = 1.164(Y-16) - 0.392(U-128)
 * - 0.813(V-128), B = 1.164(Y-16) + 2.017(U-128). Done in swscale's own fixed point (x86 SIMD yuv2rgb:
 * 13-bit coefficients, inputs << 3, pmulhw = floor(a * b / 65536) per term), so on x86 our bgr samples
 * equal ffmpeg's bgr24 byte for byte; plain rounding would be ~1 level brighter.
 */
const yTerm = (y: number): number => (((y << 3) - 128) * 9539) >> 16; // 9539 = 255/219 * 2^13; 128 = 16 << 3
const chromaTerm = (c: number, coeff: number): number => (((c - 128) << 3) * coeff) >> 16;
const u8 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

/*
 * Saturated per-channel results as 2-D tables (384 KB in all, built once): B = TB[Y << 8 | U],
 * R = TR[Y << 8 | V], G = TG[Y << 9 | GUV[U << 8 | V]]. Three lookups per sample instead of five table
 * terms plus three clamps: 20% faster than the arithmetic form, measured.
 */
const G_BIAS = 256; // G's chroma term spans -154..154: biased into 0..511
const TB = new Uint8Array(1 << 16);
const TR = new Uint8Array(1 << 16);
const TG = new Uint8Array(1 << 17);
const GUV = new Int16Array(1 << 16);
for (let y = 0; y < 256; y++) {
  const yt = yTerm(y);
  for (let c = 0; c < 256; c++) {
    TB[(y << 8) | c] = u8(yt + chromaTerm(c, 16525)); // 2.017 * 2^13
    TR[(y << 8) | c] = u8(yt + chromaTerm(c, 13075)); // 1.596 * 2^13
    GUV[(y << 8) | c] = chromaTerm(y, -3209) + chromaTerm(c, -6660) + G_BIAS; // here y is U, c is V
  }
  for (let g = 0; g < 512; g++) TG[(y << 9) | g] = u8(yt + g - G_BIAS);
}

/**
 * OpenCV's uint8 vertical pass on two horizontal sums h0, h1 (scaled by 2048): each >> 4, times the 11-bit
 * row weight, high 16 bits, summed and rounded >> 2 (resize.cpp's VResizeLinearVec_32s8u). Bit-exact
 * with cv2.resize's output on x86, so the network sees the reference's very input. Never above 255:
 * the weights sum to 2048 ± 1.
 */
function vmix(h0: number, h1: number, b0: number, b1: number): number {
  return ((((h0 >> 4) * b0) >> 16) + (((h1 >> 4) * b1) >> 16) + 2) >> 2;
}

/**
 * yuv420p frame → letterboxed planar BGR float32 (NCHW, 0–255 integers), the same numbers as ffmpeg's
 * bgr24 + cv2.resize(INTER_LINEAR) + 114 padding. Allocation-free: tables are cached per geometry.
 */
export function letterboxYuv420p(frame: YuvFrame, into: Float32Array, dstWidth: number, dstHeight: number): Letterbox {
  const { width: W, height: H, pixels: px } = frame;
  const plane = dstWidth * dstHeight;
  if (into.length !== 3 * plane) throw new InternalError(`letterbox: input buffer has ${into.length} floats, expected ${3 * plane}`);
  const need = yuv420pSize({ width: W, height: H });
  if (px.length < need) throw new InternalError(`letterbox: ${W}x${H} yuv420p needs ${need} bytes, frame has ${px.length}`);
  const { lb, x: tx, y: ty } = letterboxTables(W, H, dstWidth, dstHeight);
  const cw = lb.contentWidth;
  const ch = lb.contentHeight;
  const CW = (W + 1) >> 1;
  const uBase = W * H;
  const vShift = CW * ((H + 1) >> 1);
  const { i0: xi0, i1: xi1, c0: xc0, c1: xc1, a0: xa0, a1: xa1 } = tx;

  for (let dy = 0; dy < ch; dy++) {
    const y0 = ty.i0[dy]! * W;
    const y1 = ty.i1[dy]! * W;
    const u0 = uBase + ty.c0[dy]! * CW;
    const u1 = uBase + ty.c1[dy]! * CW;
    const v0 = u0 + vShift;
    const v1 = u1 + vShift;
    const b0 = ty.a0[dy]!;
    const b1 = ty.a1[dy]!;
    let o = dy * dstWidth;
    for (let dx = 0; dx < cw; dx++, o++) {
      const a = xi0[dx]!;
      const b = xi1[dx]!;
      const ca = xc0[dx]!;
      const cb = xc1[dx]!;
      const w0 = xa0[dx]!;
      const w1 = xa1[dx]!;
      // Four neighbours (a|b × row 0|1), each with its nearest 4:2:0 chroma sample. Half the time both
      // columns share one chroma column: skipping those loads was the other 10% measured.
      const ya = px[y0 + a]! << 8, yb = px[y0 + b]! << 8, yc = px[y1 + a]! << 8, yd = px[y1 + b]! << 8;
      const Ua = px[u0 + ca]!, Uc = px[u1 + ca]!, Va = px[v0 + ca]!, Vc = px[v1 + ca]!;
      const split = ca !== cb;
      const Ub = split ? px[u0 + cb]! : Ua;
      const Ud = split ? px[u1 + cb]! : Uc;
      const Vb = split ? px[v0 + cb]! : Va;
      const Vd = split ? px[v1 + cb]! : Vc;

      into[o] = vmix(TB[ya | Ua]! * w0 + TB[yb | Ub]! * w1, TB[yc | Uc]! * w0 + TB[yd | Ud]! * w1, b0, b1);

      const ga = GUV[(Ua << 8) | Va]!;
      const gc = GUV[(Uc << 8) | Vc]!;
      const gb = split ? GUV[(Ub << 8) | Vb]! : ga;
      const gd = split ? GUV[(Ud << 8) | Vd]! : gc;
      const h0 = TG[(ya << 1) | ga]! * w0 + TG[(yb << 1) | gb]! * w1;
      into[plane + o] = vmix(h0, TG[(yc << 1) | gc]! * w0 + TG[(yd << 1) | gd]! * w1, b0, b1);

      into[2 * plane + o] = vmix(TR[ya | Va]! * w0 + TR[yb | Vb]! * w1, TR[yc | Vc]! * w0 + TR[yd | Vd]! * w1, b0, b1);
    }
    // Right padding of this row, in each plane.
    if (cw < dstWidth) {
      const rowEnd = (dy + 1) * dstWidth;
      into.fill(PAD_VALUE, o, rowEnd);
      into.fill(PAD_VALUE, plane + o, plane + rowEnd);
      into.fill(PAD_VALUE, 2 * plane + o, 2 * plane + rowEnd);
    }
  }
  // Bottom padding. Rewritten every frame (cheap memset) so a buffer shared across geometries stays right.
  if (ch < dstHeight) {
    for (let c = 0; c < 3; c++) into.fill(PAD_VALUE, c * plane + ch * dstWidth, (c + 1) * plane);
  }
  return lb;
}
