import { z } from 'zod';
import { DEFAULT_DATA_DIR, DEFAULT_MAX_MODEL_BYTES } from '../io/http/app.js';
import { modelS3FromEnv, S3ConfigError, type ModelS3Config } from '../io/s3/config.js';
import { UsageError } from './args.js';

/** What the API reads from the environment, validated once at start by `sie api` and `sie serve`. */
export interface ApiEnvironment {
  /** SIE_DATA_DIR (default ./.sie). */
  readonly dataDir: string;
  /** SIE_MAX_MODEL_BYTES (default 500 MB). */
  readonly maxModelBytes: number;
  /** SIE_RTSP_PUBLIC_URL: the base of every run's output_url; undefined = the holding engine's address. */
  readonly publicRtspUrl?: string;
  /** SIE_MODEL_S3_URL and the other S3 settings: the store for big models; undefined = PostgreSQL only. */
  readonly modelS3?: ModelS3Config;
}

/** rtsp:// or rtsps:// with a host and at most a port: a base the mount is appended to; no credentials. */
function isRtspBase(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'rtsp:' || u.protocol === 'rtsps:') && u.hostname !== '' && u.username === '' && u.password === '' && (u.pathname === '' || u.pathname === '/') && u.search === '' && u.hash === '';
  } catch {
    return false;
  }
}

// Digits only: "1MB", "1e9", "0x10" or "500 000" must not start a server whose every upload then fails.
const bytes = z
  .string()
  .regex(/^\d{1,15}$/, 'expected a whole number of bytes, e.g. 524288000 for 500 MB')
  .transform(Number)
  .refine((n) => n > 0, 'must be at least 1');

const schema = z.object({
  SIE_DATA_DIR: z.string().min(1),
  SIE_MAX_MODEL_BYTES: bytes,
  SIE_RTSP_PUBLIC_URL: z
    .string()
    .refine(isRtspBase, 'expected rtsp://host[:port] (a Service in front of the engines), without credentials or a path')
    .optional(),
});

/**
 * SIE_DATA_DIR as every command reads it: unset or empty means ./.sie (not the working directory). The
 * API and the engine must agree, or `sie serve` stores uploaded models where its engine never looks.
 */
export function dataDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.SIE_DATA_DIR || DEFAULT_DATA_DIR;
}

/**
 * The API's settings from `env`; a bad value is a UsageError naming the variable and its value (the CLI
 * exits 2 with it on stderr) instead of a server that starts and answers 500 later. Empty counts as unset.
 */
export function apiEnvironment(env: NodeJS.ProcessEnv = process.env): ApiEnvironment {
  const raw = {
    SIE_DATA_DIR: dataDirFromEnv(env),
    SIE_MAX_MODEL_BYTES: env.SIE_MAX_MODEL_BYTES?.trim() || String(DEFAULT_MAX_MODEL_BYTES),
    SIE_RTSP_PUBLIC_URL: env.SIE_RTSP_PUBLIC_URL?.trim() || undefined,
  };
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const name = String(issue.path[0]);
    const value = raw[name as keyof typeof raw];
    throw new UsageError(`environment: ${name}=${JSON.stringify(value)}: ${issue.message}`);
  }
  const modelS3 = modelS3Environment(env);
  return {
    dataDir: r.data.SIE_DATA_DIR,
    maxModelBytes: r.data.SIE_MAX_MODEL_BYTES,
    ...(r.data.SIE_RTSP_PUBLIC_URL ? { publicRtspUrl: r.data.SIE_RTSP_PUBLIC_URL } : {}),
    ...(modelS3 ? { modelS3 } : {}),
  };
}

/** The S3 store's settings (src/io/s3/config.ts), a bad one as the CLI's usage error (exit 2), as the API and the engine read them. */
export function modelS3Environment(env: NodeJS.ProcessEnv = process.env): ModelS3Config | undefined {
  try {
    return modelS3FromEnv(env);
  } catch (err) {
    if (err instanceof S3ConfigError) throw new UsageError(err.message);
    throw err;
  }
}
