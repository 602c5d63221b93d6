import { z } from 'zod';

/** CLI errors: printed as one line naming the bad option, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** What an option's schema carries in `.meta()` for the command line (see command.ts). */
export interface OptionHelp {
  /** What it does, for --help (a sentence or two; the default is appended from the schema). */
  readonly description: string;
  /** The value's placeholder in --help (`--port <PORT>`); absent for a flag (a boolean option). */
  readonly arg?: string;
  /** The default as --help says it, where the schema's value would read badly (1800 for 30m) or is computed. */
  readonly defaultText?: string;
  /** The heading it is listed under in --help (sie bench's modes); default Options:. */
  readonly group?: string;
}

/** An option's help, for its schema's `.meta()`: `portSchema.default(8554).meta(help('...', 'PORT'))`. */
export function help(description: string, arg?: string, defaultText?: string): OptionHelp & Record<string, string> {
  return { description, ...(arg !== undefined ? { arg } : {}), ...(defaultText !== undefined ? { defaultText } : {}) };
}

/** A positional argument: `SOURCE`, validated under `key` of the command's schema. */
export interface Positional {
  /** The schema's key (`source`). */
  readonly key: string;
  /** As the synopsis writes it (`SOURCE`). */
  readonly name: string;
  /** What it is, for --help and for the message when it is missing. */
  readonly description: string;
}

/**
 * Validates parsed options with a zod schema; the first problem names the option (`--port: ...`), or the
 * positional argument by its name in the synopsis (`SOURCE (the 1st argument): ...`). An option that was
 * not given but must be reads `--model is required: <its description>`, not zod's "expected string,
 * received undefined". A positional's value is never quoted: a camera URL may hold a password.
 */
export function parseOptions<T extends z.ZodType>(schema: T, raw: unknown, positionals: readonly Positional[] = []): z.infer<T> {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const key = issue.path.map(String).join('.');
    const at = positionals.findIndex((p) => p.key === key);
    const missing = issue.code === 'invalid_type' && raw !== null && typeof raw === 'object' && (raw as Record<string, unknown>)[key] === undefined;
    if (at >= 0) {
      const p = positionals[at]!;
      throw new UsageError(missing ? `${p.name} is required: ${p.description}` : `${p.name} (the ${ordinal(at + 1)} argument): ${issue.message}`);
    }
    if (missing && key) {
      const field = schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>)[key] : undefined;
      const what = field?.meta()?.description;
      throw new UsageError(`--${key} is required${typeof what === 'string' ? `: ${what}` : ''}`);
    }
    // z.coerce.number() on "eighty" reads "expected number, received NaN": say what was expected.
    const notANumber = issue.code === 'invalid_type' && issue.expected === 'number';
    throw new UsageError(`--${key}: ${notANumber ? 'expected a number' : issue.message}`);
  }
  return r.data;
}

function ordinal(n: number): string {
  return n === 1 ? '1st' : n === 2 ? '2nd' : n === 3 ? '3rd' : `${n}th`;
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
  'inference-workers': z.coerce
    .number()
    .int()
    .min(0)
    .max(256)
    .optional()
    .meta(help('worker threads that run the model, off the event loop; 0 = on the event loop', 'N', "the machine's cores")),
  'intra-op-threads': z.coerce.number().int().min(1).max(64).default(1).meta(help('ONNX Runtime threads inside one operator, per session', 'N')),
  'execution-provider': z.enum(['cpu', 'cuda']).default('cpu').meta(help("where ONNX Runtime runs the model; cuda needs onnxruntime's GPU build", 'EP')),
};

/** The backend settings from those options (see inferenceBackend). */
export function inferenceSettings(o: { 'inference-workers'?: number; 'intra-op-threads': number; 'execution-provider': 'cpu' | 'cuda' }) {
  return { workers: o['inference-workers'], intraOpThreads: o['intra-op-threads'], executionProvider: o['execution-provider'] };
}
