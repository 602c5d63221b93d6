import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { ConfigInvalidError, ModelError } from '../errors.js';
import { createDetector, type DetectResult, type Detector, type DetectorFactory, type DetectorOptions } from './detector.js';
import type { DetectorDescription, InferenceTask, WorkerFailure, WorkerModelOptions } from './inferenceWorker.js';
import type { ExecutionProvider } from './modelSession.js';

export interface InferencePoolOptions {
  /** Worker threads (default: the machine's cores). Each holds its own session per model file. */
  workers?: number;
  /** ORT intra-op threads per session (default 1: parallelism comes from the workers). */
  intraOpThreads?: number;
  executionProvider?: ExecutionProvider;
}

/**
 * The same model, thresholds, classes and groups share one detector in each worker. Keys are sorted at every
 * depth: JSON.stringify's key list would apply the top level's names to nested objects too (a spec's or a
 * group's keys would vanish from the key, and two configs would share a detector).
 */
export function keyOf(model: WorkerModelOptions): string {
  return JSON.stringify(sortedKeys(model));
}

function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, sortedKeys(o[k])]),
  );
}

function isFailure(x: unknown): x is WorkerFailure {
  return typeof x === 'object' && x !== null && 'failed' in x;
}

function rethrow(f: WorkerFailure): never {
  // A bad class name or threshold is the config's fault; everything else is the model's.
  throw f.failed.kind === 'config_invalid' ? new ConfigInvalidError(f.failed.message) : new ModelError(f.failed.message);
}

/**
 * The worker's CommonJS entry next to this module (inferenceWorkerEntry.cts says why it is CommonJS). Run
 * from the sources (vitest), this module is a .ts file whose worker exists only compiled: the build in
 * dist/ is used then (test/globalSetup.ts keeps it fresh).
 */
function workerFile(): URL {
  const here = new URL(import.meta.url);
  if (here.pathname.endsWith('.ts')) return new URL(here.href.replace(/\/src\/(inference\/)[^/]+\.ts$/, '/dist/$1inferenceWorkerEntry.cjs'));
  return new URL('./inferenceWorkerEntry.cjs', here);
}

/**
 * Inference off the event loop: onnxruntime-node's session.run() is synchronous on the calling thread, so
 * on the event loop it would serialise every run's detection on one core and stall everything else (RTSP
 * serving, the database, the output clocks). Piscina keeps a fixed set of workers; a frame crosses as a
 * view on its SharedArrayBuffer (no copy), detections come back as small typed arrays.
 */
export class InferencePool {
  readonly workers: number;
  private readonly piscina: Piscina;
  private readonly intraOpThreads: number;
  private readonly executionProvider: ExecutionProvider;
  /** detect() tasks handed to piscina and not yet answered, from every run of the process. */
  private busy = 0;

  constructor(o: InferencePoolOptions = {}) {
    this.workers = o.workers ?? availableParallelism();
    if (!Number.isInteger(this.workers) || this.workers < 1) throw new ConfigInvalidError(`inference workers must be an integer ≥ 1, got ${this.workers}`);
    this.intraOpThreads = o.intraOpThreads ?? 1;
    this.executionProvider = o.executionProvider ?? 'cpu';
    this.piscina = new Piscina({
      filename: workerFile().href,
      minThreads: this.workers,
      maxThreads: this.workers,
      // One task at a time per worker: a second would only wait inside it for the session.
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.MAX_SAFE_INTEGER,
    });
  }

  /** A Detector whose detect() runs in the pool. Loads the model in every worker first (warm-up included). */
  async createDetector(opts: DetectorOptions): Promise<Detector> {
    const { logger: _logger, ...rest } = opts;
    const model: WorkerModelOptions = { threads: this.intraOpThreads, executionProvider: this.executionProvider, ...rest };
    const key = keyOf(model);
    // As many loads as workers at once: each idle worker takes one, so none loads on a live frame later.
    const loads = Array.from({ length: this.workers }, () => this.piscina.run({ kind: 'describe', key, model } satisfies InferenceTask));
    const answers = (await Promise.all(loads)) as (DetectorDescription | WorkerFailure)[];
    const failure = answers.find(isFailure);
    if (failure) rethrow(failure);
    const d = answers[0] as DetectorDescription;
    return {
      ...d,
      detect: async (frame) => {
        const task: InferenceTask = { kind: 'detect', key, model, frame: { pixels: frame.pixels, width: frame.width, height: frame.height } };
        this.busy++;
        let out: DetectResult | WorkerFailure;
        try {
          out = (await this.piscina.run(task)) as DetectResult | WorkerFailure;
        } finally {
          this.busy--;
        }
        if (isFailure(out)) rethrow(out);
        return out;
      },
      hasIdleWorker: () => this.busy < this.workers,
    };
  }

  async close(): Promise<void> {
    await this.piscina.close({ force: true });
  }
}

export interface InferenceBackend {
  readonly createDetector: DetectorFactory;
  /** Worker threads doing inference; 0 = on the event loop. */
  readonly workers: number;
  close(): Promise<void>;
}

/**
 * Where a process runs its detectors: `workers` ≥ 1 = an InferencePool; 0 = on the event loop (what a
 * process with a single short job, or a debugger, may prefer). Intra-op threads and the execution
 * provider apply either way.
 */
export function inferenceBackend(o: InferencePoolOptions): InferenceBackend {
  if (o.workers === 0) {
    const settings = { threads: o.intraOpThreads ?? 1, executionProvider: o.executionProvider ?? 'cpu' };
    return { createDetector: (opts) => createDetector({ ...settings, ...opts }), workers: 0, close: async () => undefined };
  }
  const pool = new InferencePool(o);
  return { createDetector: (opts) => pool.createDetector(opts), workers: pool.workers, close: () => pool.close() };
}
