import { z } from 'zod';

/**
 * The optional S3-compatible store for big models' weights, as the environment sets it. Read and checked
 * once at start by the API and the engine (`sie api`, `sie engine`, `sie serve`): a bad value stops the
 * command naming the variable instead of failing every upload or run later.
 *
 * Credentials are never settings of ours: the AWS SDK's default chain finds them (AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, a web identity token, an instance or pod role). A URL that carries a user or a
 * password is refused rather than used, so no secret can end up in our config, logs or messages, and the
 * refusal never quotes the value it refused.
 */
export interface ModelS3Config {
  /** From SIE_MODEL_S3_URL: s3://BUCKET/… */
  readonly bucket: string;
  /** The key prefix, without leading or trailing '/'; '' for the bucket's root. */
  readonly prefix: string;
  /** SIE_S3_ENDPOINT: an S3-compatible server (MinIO, Ceph, R2); undefined = AWS S3 itself. */
  readonly endpoint?: string;
  /** SIE_S3_REGION. */
  readonly region: string;
  /** SIE_S3_FORCE_PATH_STYLE: http://endpoint/bucket/key instead of http://bucket.endpoint/key. */
  readonly forcePathStyle: boolean;
  /** SIE_MODEL_S3_MIN_BYTES: weights at least this big go to S3, smaller ones to PostgreSQL. */
  readonly minBytes: number;
}

export const DEFAULT_S3_REGION = 'us-east-1';
/**
 * 64 MiB. Below it the weights stay in PostgreSQL (64 rows of 1 MiB): detection models of a few to tens of
 * MB (YOLOX nano 3.6 MB, s ~36 MB) cost the database little and need no second service. Above it (YOLOX
 * m/l/x, 100–400 MB, or several versions of them) every model adds its whole size to the WAL, each
 * replica and each base backup, where an object store keeps it once, next to the engines that fetch it.
 */
export const DEFAULT_MODEL_S3_MIN_BYTES = 64 * 1024 * 1024;

/** What a credentials refusal says: where credentials come from instead. */
const CREDENTIALS_HINT =
  'credentials come only from the AWS SDK\'s default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a web identity token, an instance or pod role)';

/** S3's bucket naming rules (3–63 characters, lower-case letters, digits, '.' and '-', a letter or digit at each end). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** s3://bucket[/prefix] → its parts; the reason when it is not one. Never quotes the value. */
export function parseS3Url(url: string): { bucket: string; prefix: string } | { problem: string } {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(url);
  if (!m) return { problem: 'expected s3://BUCKET or s3://BUCKET/PREFIX' };
  const authority = m[1]!;
  if (authority.includes('@')) return { problem: `must not carry credentials (user:password@); ${CREDENTIALS_HINT}` };
  if (!BUCKET.test(authority)) return { problem: 'the bucket must be 3 to 63 lower-case letters, digits, "." or "-", beginning and ending with a letter or digit' };
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  // Keys are opaque to S3, but these would be read differently by a console, a CLI or a proxy.
  if (/[?#\\\s\p{Cc}]/u.test(prefix) || prefix.includes('//') || prefix.split('/').some((p) => p === '.' || p === '..')) {
    return { problem: 'the prefix must be plain path segments (no "?", "#", "\\", whitespace, empty, "." or ".." segments)' };
  }
  if (prefix.length > 512) return { problem: 'the prefix is longer than 512 characters' };
  return { bucket: authority, prefix };
}

function endpointProblem(value: string): string | undefined {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return 'expected http://HOST[:PORT] or https://HOST[:PORT]';
  }
  // Checked first: the other messages must not be the hint that a password was there.
  if (u.username !== '' || u.password !== '' || /^[a-z]+:\/\/[^/]*@/i.test(value)) return `must not carry credentials (user:password@); ${CREDENTIALS_HINT}`;
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'expected http://HOST[:PORT] or https://HOST[:PORT]';
  if ((u.pathname !== '' && u.pathname !== '/') || u.search !== '' || u.hash !== '') return 'expected http(s)://HOST[:PORT] without a path, query or fragment';
  return undefined;
}

const schema = z.object({
  SIE_MODEL_S3_URL: z
    .string()
    .transform((s, ctx) => {
      const r = parseS3Url(s);
      if ('problem' in r) {
        ctx.addIssue({ code: 'custom', message: r.problem });
        return z.NEVER;
      }
      return r;
    })
    .optional(),
  SIE_S3_ENDPOINT: z
    .string()
    .superRefine((s, ctx) => {
      const problem = endpointProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .transform((s) => s.replace(/\/$/, ''))
    .optional(),
  SIE_S3_REGION: z.string().regex(/^[a-z0-9-]{1,40}$/, 'expected a region name, e.g. us-east-1 (lower-case letters, digits and "-")').default(DEFAULT_S3_REGION),
  SIE_S3_FORCE_PATH_STYLE: z.enum(['true', 'false'], { message: 'expected true or false' }).optional(),
  // Digits only, as SIE_MAX_MODEL_BYTES: "64MB" must stop the command, not send every model to S3.
  SIE_MODEL_S3_MIN_BYTES: z
    .string()
    .regex(/^\d{1,15}$/, 'expected a whole number of bytes, e.g. 67108864 for 64 MiB (0: every model to S3)')
    .transform(Number)
    .optional(),
});

const NAMES = ['SIE_MODEL_S3_URL', 'SIE_S3_ENDPOINT', 'SIE_S3_REGION', 'SIE_S3_FORCE_PATH_STYLE', 'SIE_MODEL_S3_MIN_BYTES'] as const;
/** The values that may hold a secret by mistake: never quoted in a message. */
const UNQUOTED = new Set<string>(['SIE_MODEL_S3_URL', 'SIE_S3_ENDPOINT']);

/** A bad S3 setting: the message names the variable (the CLI turns it into its usage error, exit 2). */
export class S3ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = 'S3ConfigError';
  }
}

/**
 * The S3 store's settings from `env`, or undefined when SIE_MODEL_S3_URL is unset (the default: every
 * model in PostgreSQL). The other variables are checked even then, so a typo is found before the day it
 * matters. Empty counts as unset.
 */
export function modelS3FromEnv(env: NodeJS.ProcessEnv = process.env): ModelS3Config | undefined {
  const raw = Object.fromEntries(NAMES.map((n) => [n, env[n]?.trim() || undefined])) as Record<(typeof NAMES)[number], string | undefined>;
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const name = String(issue.path[0]);
    const value = raw[name as keyof typeof raw];
    const shown = UNQUOTED.has(name) ? '' : `=${JSON.stringify(value)}`;
    throw new S3ConfigError(name, `environment: ${name}${shown}: ${issue.message}`);
  }
  const d = r.data;
  if (!d.SIE_MODEL_S3_URL) return undefined;
  return {
    bucket: d.SIE_MODEL_S3_URL.bucket,
    prefix: d.SIE_MODEL_S3_URL.prefix,
    ...(d.SIE_S3_ENDPOINT ? { endpoint: d.SIE_S3_ENDPOINT } : {}),
    region: d.SIE_S3_REGION,
    // MinIO and most S3-compatible servers have no per-bucket DNS names; AWS S3 prefers virtual hosts.
    forcePathStyle: d.SIE_S3_FORCE_PATH_STYLE === undefined ? d.SIE_S3_ENDPOINT !== undefined : d.SIE_S3_FORCE_PATH_STYLE === 'true',
    minBytes: d.SIE_MODEL_S3_MIN_BYTES ?? DEFAULT_MODEL_S3_MIN_BYTES,
  };
}

/** The store as logs and messages name it: its s3:// URL and endpoint, which hold no secret (refused above). */
export function describeModelS3(c: Pick<ModelS3Config, 'bucket' | 'prefix' | 'endpoint'>): string {
  const url = `s3://${c.bucket}${c.prefix ? `/${c.prefix}` : ''}`;
  return c.endpoint ? `${url} at ${c.endpoint}` : url;
}
