/**
 * The file piscina loads in each worker thread. Piscina require()s a worker file first and import()s it
 * only when that throws; on Node 20, require() of our ESM worker can race the ESM loader inside the thread
 * and abort the whole process (`v8::Module::IsGraphAsync must be used on an instantiated module`,
 * nodejs/node#55782). This entry is CommonJS, so piscina's require() is a plain one, and the ESM worker is
 * loaded once, by import() alone.
 */
import type { InferenceTask } from './inferenceWorker.js';

type RunTask = (task: InferenceTask) => Promise<unknown>;

let loaded: Promise<RunTask> | undefined;

function runInferenceTask(task: InferenceTask): Promise<unknown> {
  loaded ??= import('./inferenceWorker.js').then((m) => m.default);
  return loaded.then((run) => run(task));
}

export = runInferenceTask;
