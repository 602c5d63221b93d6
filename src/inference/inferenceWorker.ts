/**
 * The inside of one inference worker thread (see workerPool.ts): it holds its own ONNX session per model
 * file and runs the whole detection (letterbox, run(), decode, NMS) off the event loop. Piscina calls the
 * default export once per task, one task at a time per worker.
 */
import { createDetector, type Detector, type DetectorOptions } from './detector.js';
import { coerceError } from '../errors.js';

/** A detector's options as they cross to a worker: plain data, so without the logger (a worker logs nothing
 *  per frame; a failure comes back as data and the run logs it). */
export type WorkerModelOptions = DetectorOptions & { readonly logger?: never };

export interface WorkerFrame {
  /** Usually a view on a SharedArrayBuffer: the worker reads the decoder's bytes, nothing is copied. */
  readonly pixels: Uint8Array;
  readonly width: number;
  readonly height: number;
}

export type InferenceTask =
  | { readonly kind: 'describe'; readonly key: string; readonly model: WorkerModelOptions }
  | { readonly kind: 'detect'; readonly key: string; readonly model: WorkerModelOptions; readonly frame: WorkerFrame };

export interface DetectorDescription {
  readonly name: string;
  readonly format: Detector['format'];
  readonly labels: readonly string[];
  readonly inputWidth: number;
  readonly inputHeight: number;
  readonly classIds: ReadonlySet<number> | undefined;
}

/** Errors cross the thread boundary as data: a structured clone keeps an Error's message, not its class. */
export interface WorkerFailure {
  readonly failed: { readonly kind: string; readonly message: string };
}

const detectors = new Map<string, Promise<Detector>>();

function detectorFor(key: string, model: WorkerModelOptions): Promise<Detector> {
  let d = detectors.get(key);
  if (!d) {
    d = createDetector(model);
    detectors.set(key, d);
    // A failed load is forgotten, so that a fixed file can be loaded by a later task.
    d.catch(() => detectors.delete(key));
  }
  return d;
}

export default async function runInferenceTask(task: InferenceTask): Promise<unknown> {
  try {
    const detector = await detectorFor(task.key, task.model);
    if (task.kind === 'describe') {
      const { name, format, labels, inputWidth, inputHeight, classIds } = detector;
      return { name, format, labels, inputWidth, inputHeight, classIds } satisfies DetectorDescription;
    }
    return await detector.detect(task.frame);
  } catch (err) {
    const e = coerceError(err);
    return { failed: { kind: e.kind, message: e.message } } satisfies WorkerFailure;
  }
}
