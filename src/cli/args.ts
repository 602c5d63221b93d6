import { z } from 'zod';

/** CLI errors: printed as one line naming the bad option, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Validates parsed options with a zod schema; the first problem names the option. */
export function parseOptions<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const name = issue.path.map(String).join('.');
    throw new UsageError(`--${name}: ${issue.message}`);
  }
  return r.data;
}

export const portSchema = z.coerce.number().int().min(0).max(65535);
/** x264 presets we accept: the fast end, where a live 1080p frame stays within a frame period. */
export const x264PresetSchema = z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium']);
export const sizeSchema = z
  .string()
  .regex(/^\d{2,5}x\d{2,5}$/, 'expected WIDTHxHEIGHT, e.g. 1920x1080')
  .transform((s) => {
    const [w, h] = s.split('x').map(Number) as [number, number];
    return { width: w, height: h };
  })
  .refine((g) => g.width % 2 === 0 && g.height % 2 === 0, 'width and height must be even');

/** Where detection runs, for every command that runs a model (run, replay, engine, serve). */
export const inferenceOptionsShape = {
  /** Worker threads for inference; default the machine's cores; 0 = on the event loop. */
  'inference-workers': z.coerce.number().int().min(0).max(256).optional(),
  /** ORT threads inside one operator, per session. */
  'intra-op-threads': z.coerce.number().int().min(1).max(64).default(1),
  'execution-provider': z.enum(['cpu', 'cuda']).default('cpu'),
};

export const inferenceUsage = `[--inference-workers N] [--intra-op-threads 1] [--execution-provider cpu|cuda]`;

export const inferenceHelp = `  --inference-workers N: threads that run the model, off the event loop (default: the machine's cores;
  0 = on the event loop). --execution-provider cuda needs onnxruntime's GPU build.`;

/** The backend settings from those options (see inferenceBackend). */
export function inferenceSettings(o: { 'inference-workers'?: number; 'intra-op-threads': number; 'execution-provider': 'cpu' | 'cuda' }) {
  return { workers: o['inference-workers'], intraOpThreads: o['intra-op-threads'], executionProvider: o['execution-provider'] };
}
