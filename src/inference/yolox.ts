import { makeDetections, type Detections } from '../detections.js';
import { ModelError } from '../errors.js';
import {
  DEFAULT_MAX_DETECTIONS,
  expectDims,
  readInputSize,
  type AdapterFactory,
  type DetectorAdapter,
  type Letterbox,
  type PostprocessOptions,
} from './adapter.js';
import { letterboxYuv420p } from './letterbox.js';
import { nmsClassAware } from './nms.js';

/** YOLOX's three heads. */
export const YOLOX_STRIDES: readonly number[] = [8, 16, 32];

/** Anchor-free grid: one cell per anchor, row-major per stride (YOLOX's demo_postprocess meshgrid order). */
export interface YoloxGrid {
  readonly count: number;
  readonly gx: Float32Array;
  readonly gy: Float32Array;
  readonly stride: Float32Array;
}

export function yoloxGrid(inputWidth: number, inputHeight: number, strides: readonly number[] = YOLOX_STRIDES): YoloxGrid {
  const cells = strides.map((s) => [Math.floor(inputWidth / s), Math.floor(inputHeight / s)] as const);
  const count = cells.reduce((n, [w, h]) => n + w * h, 0);
  const g = { count, gx: new Float32Array(count), gy: new Float32Array(count), stride: new Float32Array(count) };
  let k = 0;
  strides.forEach((s, i) => {
    const [w, h] = cells[i]!;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++, k++) {
        g.gx[k] = x;
        g.gy[k] = y;
        g.stride[k] = s;
      }
    }
  });
  return g;
}

/** Growable candidate store, reused across frames so steady state allocates nothing but the result. */
export class Candidates {
  count = 0;
  xyxy = new Float32Array(4 * 256);
  score = new Float32Array(256);
  cls = new Int32Array(256);

  push(x1: number, y1: number, x2: number, y2: number, score: number, cls: number): void {
    if (this.count === this.score.length) this.grow();
    const i = this.count++;
    this.xyxy[4 * i] = x1;
    this.xyxy[4 * i + 1] = y1;
    this.xyxy[4 * i + 2] = x2;
    this.xyxy[4 * i + 3] = y2;
    this.score[i] = score;
    this.cls[i] = cls;
  }

  private grow(): void {
    const n = this.score.length * 2;
    const xyxy = new Float32Array(4 * n);
    xyxy.set(this.xyxy);
    const score = new Float32Array(n);
    score.set(this.score);
    const cls = new Int32Array(n);
    cls.set(this.cls);
    this.xyxy = xyxy;
    this.score = score;
    this.cls = cls;
  }
}

/**
 * Decodes a raw YOLOX head [1, N, 5 + C] (cx, cy, w, h in grid units; objectness and class scores already
 * sigmoided) into detections in source pixels: xy = (xy + grid) * stride, wh = exp(wh) * stride, score =
 * obj x cls per class, per-class NMS, best first, capped, divided by the letterbox ratio, clipped to the frame.
 * Boxes that clipping leaves empty (anchors predicting into the padding) are dropped.
 */
export function decodeYolox(
  output: Float32Array,
  numClasses: number,
  grid: YoloxGrid,
  lb: Letterbox,
  opts: PostprocessOptions,
  scratch: Candidates = new Candidates(),
): Detections {
  const stride = 5 + numClasses;
  const conf = opts.confidence;
  const classes = opts.classes ? Int32Array.from([...opts.classes].filter((c) => c >= 0 && c < numClasses)) : null;
  const outputClass = opts.outputClass;
  const inv = 1 / lb.ratio;
  const cand = scratch;
  cand.count = 0;
  for (let a = 0; a < grid.count; a++) {
    const base = a * stride;
    const obj = output[base + 4]!;
    // Class scores are ≤ 1, so no class of this anchor can pass: skips ~99% of anchors cheaply.
    if (!(obj > conf)) continue;
    let boxed = false;
    let x1 = 0, y1 = 0, x2 = 0, y2 = 0;
    const n = classes ? classes.length : numClasses;
    for (let k = 0; k < n; k++) {
      const c = classes ? classes[k]! : k;
      const score = obj * output[base + 5 + c]!;
      if (!(score > conf)) continue;
      if (!boxed) {
        const s = grid.stride[a]!;
        const cx = (output[base]! + grid.gx[a]!) * s;
        const cy = (output[base + 1]! + grid.gy[a]!) * s;
        const hw = (Math.exp(output[base + 2]!) * s) / 2;
        const hh = (Math.exp(output[base + 3]!) * s) / 2;
        x1 = (cx - hw) * inv;
        y1 = (cy - hh) * inv;
        x2 = (cx + hw) * inv;
        y2 = (cy + hh) * inv;
        boxed = true;
      }
      cand.push(x1, y1, x2, y2, score, outputClass ? outputClass[c]! : c);
    }
  }
  // NMS on unclipped boxes, as the reference does; clipping first would change overlaps at the frame edge.
  const kept = nmsClassAware(cand.xyxy, cand.score, opts.agnostic ? new Int32Array(cand.count) : cand.cls, cand.count, opts.iou);
  const max = Math.min(kept.length, opts.maxDetections ?? DEFAULT_MAX_DETECTIONS);
  const xyxy = new Float32Array(4 * max);
  const confidence = new Float32Array(max);
  const classId = new Int32Array(max);
  let m = 0;
  for (let k = 0; k < kept.length && m < max; k++) {
    const i = kept[k]!;
    const bx1 = clamp(cand.xyxy[4 * i]!, lb.srcWidth);
    const by1 = clamp(cand.xyxy[4 * i + 1]!, lb.srcHeight);
    const bx2 = clamp(cand.xyxy[4 * i + 2]!, lb.srcWidth);
    const by2 = clamp(cand.xyxy[4 * i + 3]!, lb.srcHeight);
    if (bx2 <= bx1 || by2 <= by1) continue;
    xyxy[4 * m] = bx1;
    xyxy[4 * m + 1] = by1;
    xyxy[4 * m + 2] = bx2;
    xyxy[4 * m + 3] = by2;
    confidence[m] = cand.score[i]!;
    classId[m] = cand.cls[i]!;
    m++;
  }
  return m === max
    ? makeDetections({ xyxy, confidence, classId })
    : makeDetections({ xyxy: xyxy.slice(0, 4 * m), confidence: confidence.slice(0, m), classId: classId.slice(0, m) });
}

function clamp(v: number, hi: number): number {
  return v < 0 ? 0 : v > hi ? hi : v;
}

/** The YOLOX adapter: letterbox preprocessing, raw-head decode. Validates the output layout up front. */
export const createYoloxAdapter: AdapterFactory = (io): DetectorAdapter => {
  const { width: inputWidth, height: inputHeight } = readInputSize(io);
  for (const s of YOLOX_STRIDES) {
    if (inputWidth % s !== 0 || inputHeight % s !== 0) {
      throw new ModelError(`model ${io.path}: input ${inputWidth}x${inputHeight} is not a multiple of YOLOX stride ${s}`);
    }
  }
  const grid = yoloxGrid(inputWidth, inputHeight);
  const expected = [1, grid.count, 5 + io.numClasses];
  const checkClasses = (dims: readonly (number | string)[]): void => {
    const per = dims[2];
    if (dims.length === 3 && typeof per === 'number' && per >= 0 && per !== 5 + io.numClasses) {
      throw new ModelError(
        `model ${io.path}: output has ${per} values per anchor, i.e. ${per - 5} classes, but the labels list ${io.numClasses}`,
      );
    }
  };
  if (io.outputShape) {
    checkClasses(io.outputShape);
    expectDims(io.path, io.outputShape, expected, '[1, anchors, 5 + classes]');
  }
  const scratch = new Candidates();
  return {
    format: 'yolox',
    inputWidth,
    inputHeight,
    preprocess: (frame, into) => letterboxYuv420p(frame, into, inputWidth, inputHeight),
    postprocess(output, dims, lb, opts) {
      checkClasses(dims);
      expectDims(io.path, dims, expected, '[1, anchors, 5 + classes]', output.length);
      return decodeYolox(output, io.numClasses, grid, lb, opts, scratch);
    },
  };
};
