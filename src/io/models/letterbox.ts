import { InternalError } from '../../errors.js';
import { yuv420pSize } from '../../frame.js';
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
 * equal ffmpeg's bgr24 byte for byte; plain rounding would be ~1 level brighter. One table per term.
 */
const Y_T = new Int32Array(256);
const RV_T = new Int32Array(256);
const GU_T = new Int32Array(256);
const GV_T = new Int32Array(256);
const BU_T = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  const c = (i - 128) << 3;
  Y_T[i] = (((i << 3) - 128) * 9539) >> 16; // 9539 = round(255/219 * 2^13), 128 = 16 << 3
  RV_T[i] = (c * 13075) >> 16; // 1.596 * 2^13
  GU_T[i] = (c * -3209) >> 16; // -0.392 * 2^13
  GV_T[i] = (c * -6660) >> 16; // -0.813 * 2^13
  BU_T[i] = (c * 16525) >> 16; // 2.017 * 2^13
}

function u8(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * OpenCV's uint8 vertical pass on two horizontal sums h0, h1 (scaled by 2048): each >> 4, times the 11-bit
 * row weight, high 16 bits, summed and rounded >> 2 (resize.cpp's VResizeLinearVec_32s8u). Bit-exact
 * with cv2.resize's output on x86, so the network sees the reference's very input.
 */
function vmix(h0: number, h1: number, b0: number, b1: number): number {
  const v = ((((h0 >> 4) * b0) >> 16) + (((h1 >> 4) * b1) >> 16) + 2) >> 2;
  return v > 255 ? 255 : v;
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
      // Four neighbours: luma term each, chroma terms from their (nearest) 4:2:0 sample.
      const ya = Y_T[px[y0 + a]!]!, yb = Y_T[px[y0 + b]!]!, yc = Y_T[px[y1 + a]!]!, yd = Y_T[px[y1 + b]!]!;
      const Ua = px[u0 + ca]!, Ub = px[u0 + cb]!, Uc = px[u1 + ca]!, Ud = px[u1 + cb]!;
      const Va = px[v0 + ca]!, Vb = px[v0 + cb]!, Vc = px[v1 + ca]!, Vd = px[v1 + cb]!;

      let h0 = u8(ya + BU_T[Ua]!) * w0 + u8(yb + BU_T[Ub]!) * w1;
      let h1 = u8(yc + BU_T[Uc]!) * w0 + u8(yd + BU_T[Ud]!) * w1;
      into[o] = vmix(h0, h1, b0, b1);

      h0 = u8(ya + GU_T[Ua]! + GV_T[Va]!) * w0 + u8(yb + GU_T[Ub]! + GV_T[Vb]!) * w1;
      h1 = u8(yc + GU_T[Uc]! + GV_T[Vc]!) * w0 + u8(yd + GU_T[Ud]! + GV_T[Vd]!) * w1;
      into[plane + o] = vmix(h0, h1, b0, b1);

      h0 = u8(ya + RV_T[Va]!) * w0 + u8(yb + RV_T[Vb]!) * w1;
      h1 = u8(yc + RV_T[Vc]!) * w0 + u8(yd + RV_T[Vd]!) * w1;
      into[2 * plane + o] = vmix(h0, h1, b0, b1);
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
