import * as ort from 'onnxruntime-node';
import type { Detections } from '../detections.js';
import { ConfigInvalidError, ModelError } from '../errors.js';
import type { Logger } from '../log.js';
import type { AdapterFactory, PostprocessOptions, YuvFrame } from './adapter.js';
import { loadLabels, resolveModelPath, resolveModelSpec, type ModelFormat, type ModelSpec } from './modelSpec.js';
import { getModelSession, type ExecutionProvider, type ModelSession } from './modelSession.js';
import { createYoloxAdapter } from './yolox.js';
import { classLayout, type ClassGroups } from './classGroups.js';

/** One factory per head layout; adding 'yolov8' to modelFormatSchema makes this record demand its adapter. */
const ADAPTERS: Record<ModelFormat, AdapterFactory> = { yolox: createYoloxAdapter };

export const DEFAULT_CONFIDENCE = 0.3;
export const DEFAULT_IOU = 0.45;

type ModelSource =
  | { spec: ModelSpec; weightsPath?: never; labels?: never; format?: never }
  | { spec?: never; weightsPath: string; labels: string | readonly string[]; format?: ModelFormat };

export type DetectorOptions = ModelSource & {
  /** Score threshold, 0–1 (default 0.3). */
  confidence?: number;
  /** NMS IoU threshold, 0–1 (default 0.45). */
  iou?: number;
  /** Class names to keep (model labels or group names); all when absent. Unknown names are a config error. */
  classes?: readonly string[];
  /** `inference.class_groups`: members are reported as the group (see classGroups.ts). */
  classGroups?: ClassGroups;
  /** `inference.nms` (default per_class). */
  nms?: 'per_class' | 'agnostic';
  /** ORT intra-op threads of the shared session (default 1; the first load of a file decides). */
  threads?: number;
  /** Where ORT runs the model (default cpu; the first load of a file decides). */
  executionProvider?: ExecutionProvider;
  maxDetections?: number;
  /** Where relative paths are resolved (default: the project root). */
  baseDir?: string;
  /** One inference on a padded frame at creation, so the first real frame is not 3x slower. */
  warmup?: boolean;
  logger?: Logger;
};

export interface DetectTiming {
  readonly preMs: number;
  readonly inferMs: number;
  readonly postMs: number;
}

export type DetectResult = Detections & { readonly timing: DetectTiming };

export interface Detector {
  readonly name: string;
  readonly format: ModelFormat;
  /** The model's labels, indexed by model class id; with class groups, detections' ids index
   *  outputLabels(labels, groups) instead (classGroups.ts). */
  readonly labels: readonly string[];
  readonly inputWidth: number;
  readonly inputHeight: number;
  /** Class ids kept by the `classes` option, or undefined for all. */
  readonly classIds: ReadonlySet<number> | undefined;
  detect(frame: YuvFrame): Promise<DetectResult>;
  /** True while a detect() started now would run at once, not wait behind other frames (a pool with an
   *  idle worker). Absent for a detector on the calling thread: it never has room for a second frame. */
  hasIdleWorker?(): boolean;
}

function checkUnit(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0 || v > 1) throw new ConfigInvalidError(`${name} must be between 0 and 1, got ${v}`);
  return v;
}

/**
 * Names → model class ids, validated against the model's labels so a typo fails the run at start, not
 * silently. A class group's name stands for all its members.
 */
export function resolveClassFilter(
  labels: readonly string[],
  names: readonly string[] | undefined,
  groups: ReadonlyMap<string, readonly number[]> = new Map(),
): Set<number> | undefined {
  if (names === undefined) return undefined;
  const ids = new Set<number>();
  for (const name of names) {
    const grouped = groups.get(name);
    if (grouped) {
      for (const id of grouped) ids.add(id);
      continue;
    }
    const id = labels.indexOf(name);
    if (id < 0) {
      const hint = labels.slice(0, 5).join(', ');
      throw new ConfigInvalidError(`unknown class "${name}": the model's labels are ${hint}, … (${labels.length} in all)`);
    }
    ids.add(id);
  }
  return ids;
}

const warmed = new WeakSet<ModelSession>();

/** Makes detectors: createDetector on the calling thread, or an InferencePool's workers (workerPool.ts). */
export type DetectorFactory = (opts: DetectorOptions) => Promise<Detector>;

export async function createDetector(opts: DetectorOptions): Promise<Detector> {
  const post: PostprocessOptions = {
    confidence: checkUnit('confidence', opts.confidence ?? DEFAULT_CONFIDENCE),
    iou: checkUnit('iou', opts.iou ?? DEFAULT_IOU),
    ...(opts.maxDetections !== undefined ? { maxDetections: opts.maxDetections } : {}),
  };
  if (post.maxDetections !== undefined && !(Number.isInteger(post.maxDetections) && post.maxDetections >= 1)) {
    throw new ConfigInvalidError(`maxDetections must be an integer ≥ 1, got ${post.maxDetections}`);
  }
  const model = opts.spec
    ? await resolveModelSpec(opts.spec, opts.baseDir)
    : {
        name: opts.weightsPath,
        format: opts.format ?? 'yolox',
        weightsPath: resolveModelPath(opts.weightsPath, opts.baseDir),
        labels: typeof opts.labels === 'string' ? await loadLabels(resolveModelPath(opts.labels, opts.baseDir)) : [...opts.labels],
      };
  const layout = classLayout(model.labels, opts.classGroups);
  const classIds = resolveClassFilter(model.labels, opts.classes, layout.members);
  const session = await getModelSession(model.weightsPath, { threads: opts.threads, executionProvider: opts.executionProvider, logger: opts.logger });
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  const inMeta = session.inputMetadata[0];
  const outMeta = session.outputMetadata[0];
  if (!inputName || !outputName || !inMeta?.isTensor) {
    throw new ModelError(`model ${model.weightsPath}: expected one tensor input and one output`);
  }
  const adapter = ADAPTERS[model.format]({
    path: model.weightsPath,
    inputShape: inMeta.shape,
    ...(outMeta?.isTensor ? { outputShape: outMeta.shape } : {}),
    numClasses: model.labels.length,
  });
  const { inputWidth, inputHeight } = adapter;

  // One input buffer per detector, wrapped once: ORT reads it during run(), so detect() calls are
  // serialised below rather than letting a second frame overwrite the buffer mid-inference.
  const input = new Float32Array(3 * inputWidth * inputHeight);
  const tensor = new ort.Tensor('float32', input, [1, 3, inputHeight, inputWidth]);
  const filter: PostprocessOptions = {
    ...post,
    ...(classIds ? { classes: classIds } : {}),
    ...(layout.members.size > 0 ? { outputClass: layout.outputOf } : {}),
    agnostic: opts.nms === 'agnostic',
  };

  const run = async (frame: YuvFrame): Promise<DetectResult> => {
    const t0 = performance.now();
    const lb = adapter.preprocess(frame, input);
    const t1 = performance.now();
    let out: ort.Tensor | undefined;
    try {
      out = (await session.run({ [inputName]: tensor }))[outputName];
    } catch (err) {
      throw new ModelError(`model ${model.weightsPath}: inference failed: ${(err as Error).message}`, { cause: err });
    }
    if (!out || !(out.data instanceof Float32Array)) {
      throw new ModelError(`model ${model.weightsPath}: output "${outputName}" is not float32`);
    }
    const t2 = performance.now();
    const det = adapter.postprocess(out.data, out.dims, lb, filter);
    const t3 = performance.now();
    return { ...det, timing: { preMs: t1 - t0, inferMs: t2 - t1, postMs: t3 - t2 } };
  };

  if ((opts.warmup ?? true) && !warmed.has(session)) {
    warmed.add(session);
    input.fill(114);
    try {
      await session.run({ [inputName]: tensor });
    } catch (err) {
      throw new ModelError(`model ${model.weightsPath}: warm-up inference failed: ${(err as Error).message}`, { cause: err });
    }
  }

  let tail: Promise<unknown> = Promise.resolve();
  return {
    name: model.name,
    format: model.format,
    labels: model.labels,
    inputWidth,
    inputHeight,
    classIds,
    detect(frame) {
      const result = tail.then(() => run(frame));
      tail = result.catch(() => undefined);
      return result;
    },
  };
}
