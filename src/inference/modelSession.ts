import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';

/** An ONNX Runtime session: one loaded model file, shared by every run that uses it. */
export type ModelSession = ort.InferenceSession;

/** Where ORT runs the graph: `cuda` needs onnxruntime's GPU build (the npm package's default binary is CPU only). */
export type ExecutionProvider = 'cpu' | 'cuda';

export interface ModelSessionOptions {
  /** Threads inside one operator. 1 by default: runs are parallelised by running several streams, not by
   *  letting every session grab all cores (they would fight each other). */
  threads?: number;
  executionProvider?: ExecutionProvider;
  logger?: Logger;
}

interface Entry {
  readonly threads: number;
  readonly executionProvider: ExecutionProvider;
  readonly promise: Promise<ModelSession>;
}

/**
 * One InferenceSession per model file per process: a session holds the weights and the optimised graph
 * (tens of MB for bigger models) and ORT allows concurrent run() calls on it, so every run shares it.
 * Keyed by absolute path; concurrent loads of the same file share the one pending promise.
 */
const registry = new Map<string, Entry>();

export function getModelSession(weightsPath: string, opts: ModelSessionOptions = {}): Promise<ModelSession> {
  const path = resolve(weightsPath);
  const threads = opts.threads ?? 1;
  const executionProvider = opts.executionProvider ?? 'cpu';
  if (!Number.isInteger(threads) || threads < 1) {
    return Promise.reject(new ModelError(`model ${path}: threads must be an integer ≥ 1, got ${threads}`));
  }
  const log = opts.logger ?? silentLogger;
  const existing = registry.get(path);
  if (existing) {
    // The first load's options win: a second session for the same file would double its memory.
    if (existing.threads !== threads || existing.executionProvider !== executionProvider) {
      log.warn(
        { model: path, threads: existing.threads, executionProvider: existing.executionProvider, requested: { threads, executionProvider } },
        'model session already loaded; keeping its settings',
      );
    }
    return existing.promise;
  }
  const promise = load(path, threads, executionProvider, log);
  registry.set(path, { threads, executionProvider, promise });
  // A failed load is forgotten, so a later run can retry once the file is fixed.
  promise.catch(() => {
    if (registry.get(path)?.promise === promise) registry.delete(path);
  });
  return promise;
}

async function load(path: string, threads: number, executionProvider: ExecutionProvider, log: Logger): Promise<ModelSession> {
  try {
    await access(path);
  } catch (err) {
    throw new ModelError(`model file not found: ${path}`, { cause: err });
  }
  const started = performance.now();
  try {
    const session = await ort.InferenceSession.create(path, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionProviders: [executionProvider],
    });
    log.info({ model: path, threads, executionProvider, loadMs: Math.round(performance.now() - started) }, 'model session loaded');
    return session;
  } catch (err) {
    const hint = executionProvider === 'cpu' ? '' : ` (execution provider ${executionProvider}: is onnxruntime's GPU build installed?)`;
    throw new ModelError(`cannot load model ${path}${hint}: ${(err as Error).message}`, { cause: err });
  }
}

/** Paths with a loaded or loading session (for diagnostics and tests). */
export function loadedModelSessions(): string[] {
  return [...registry.keys()];
}

/**
 * Releases one file's session, if loaded (the API validating an upload it will not run itself). Runs
 * still holding it must be stopped first.
 */
export async function releaseModelSession(weightsPath: string): Promise<void> {
  const path = resolve(weightsPath);
  const entry = registry.get(path);
  if (!entry) return;
  registry.delete(path);
  const s = await entry.promise.catch(() => undefined);
  await s?.release();
}

/** Releases every session (process shutdown, tests). Runs still holding one must be stopped first. */
export async function releaseAllModelSessions(): Promise<void> {
  const entries = [...registry.values()];
  registry.clear();
  await Promise.all(
    entries.map(async (e) => {
      const s = await e.promise.catch(() => undefined);
      await s?.release();
    }),
  );
}
