import type { Detections } from '../detections.js';
import { ModelError } from '../errors.js';
import type { ModelFormat } from './modelSpec.js';

/** The part of a FrameRecord the model needs: yuv420p pixels and their size. */
export interface YuvFrame {
  readonly pixels: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/**
 * How a source frame was placed in the network input: scaled by `ratio` (model px per source px) into the
 * top-left `contentWidth x contentHeight` corner. Postprocessing divides by `ratio` to get source pixels.
 */
export interface Letterbox {
  readonly srcWidth: number;
  readonly srcHeight: number;
  readonly ratio: number;
  readonly contentWidth: number;
  readonly contentHeight: number;
}

export interface PostprocessOptions {
  /** Keep detections whose score (objectness x class score for YOLOX) is above this. */
  readonly confidence: number;
  /** NMS: a box overlapping a better one of its class (any class when `agnostic`) by more than this IoU is dropped. */
  readonly iou: number;
  /** Only these (model) class ids; all when absent. */
  readonly classes?: ReadonlySet<number>;
  /** Model class id → reported class id (class groups, see classGroups.ts); identity when absent. */
  readonly outputClass?: Int32Array;
  /** Classes suppress each other in NMS (one box per object); per reported class when false or absent. */
  readonly agnostic?: boolean;
  /** At most this many detections, best first (default 300). */
  readonly maxDetections?: number;
}

/**
 * One model head layout. Pre- and postprocessing differ per format; everything around them (sessions, the
 * input buffer, timing) is shared in detector.ts. A new format is one more file exporting an AdapterFactory.
 */
export interface DetectorAdapter {
  readonly format: ModelFormat;
  readonly inputWidth: number;
  readonly inputHeight: number;
  /** Writes the NCHW input tensor into `into` (length 3 x inputHeight x inputWidth). */
  preprocess(frame: YuvFrame, into: Float32Array): Letterbox;
  postprocess(output: Float32Array, dims: readonly number[], lb: Letterbox, opts: PostprocessOptions): Detections;
}

/** What a factory learns from the ONNX file and the spec. Shapes as ORT reports them (strings = symbolic). */
export interface ModelIo {
  readonly path: string;
  readonly inputShape: readonly (number | string)[];
  /** Absent when ORT gives no static metadata; the adapter then checks the shape at the first frame only. */
  readonly outputShape?: readonly (number | string)[];
  readonly numClasses: number;
}

export type AdapterFactory = (io: ModelIo) => DetectorAdapter;

export const DEFAULT_MAX_DETECTIONS = 300;

/** Input [1, 3, H, W] with static H and W, as every exported detector we support has. */
export function readInputSize(io: ModelIo): { width: number; height: number } {
  const s = io.inputShape;
  const [n, c, h, w] = s;
  if (s.length !== 4 || (typeof n === 'number' && n !== 1) || c !== 3) {
    throw new ModelError(`model ${io.path}: input shape [${s.join(', ')}] is not [1, 3, H, W]`);
  }
  if (typeof h !== 'number' || typeof w !== 'number' || h <= 0 || w <= 0) {
    throw new ModelError(`model ${io.path}: input size [${s.join(', ')}] is dynamic; export the model with a fixed H x W`);
  }
  return { width: w, height: h };
}

/** Throws a ModelError unless `dims` (and the data length) equal `expected`; `what` names the axes. */
export function expectDims(
  path: string,
  dims: readonly (number | string)[],
  expected: readonly number[],
  what: string,
  dataLength?: number,
): void {
  if (dims.length !== expected.length) {
    throw new ModelError(`model ${path}: output has shape [${dims.join(', ')}], expected ${what} = [${expected.join(', ')}]`);
  }
  for (let i = 0; i < expected.length; i++) {
    const d = dims[i];
    if (typeof d === 'number' && d >= 0 && d !== expected[i]) {
      throw new ModelError(`model ${path}: output has shape [${dims.join(', ')}], expected ${what} = [${expected.join(', ')}]`);
    }
  }
  const size = expected.reduce((a, b) => a * b, 1);
  if (dataLength !== undefined && dataLength !== size) {
    throw new ModelError(`model ${path}: output holds ${dataLength} values, expected ${size} for [${expected.join(', ')}]`);
  }
}
