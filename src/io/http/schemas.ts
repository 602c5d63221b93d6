import { z } from 'zod';
import { configBodySchema } from '../../config/body.js';
import { mountSchema } from '../../config/mount.js';
import { RUN_STATES } from '../db/rows.js';
import { unambiguousUrl } from '../../urlCheck.js';

/**
 * Request and response shapes of the API. Requests are strict (an unknown key is a 400, never silently
 * ignored) and reuse the config schemas the engine runs; responses are documented in /openapi.json.
 */

export const errorSchema = z
  .object({
    error: z.string().describe('machine-readable kind: validation, not_found, conflict, too_large, unprocessable, …'),
    detail: z.string().describe('what was wrong, naming the field'),
  })
  .describe('every error response');

/** DELETE answers 204 with no body. */
export const noContent = z.null().describe('no content');

export const idParamsSchema = z.strictObject({ id: z.uuid() });
const clientIdSchema = z.string().min(1).max(200).describe('the tenant that owns configs and runs');
const timestamp = z.string().describe('ISO 8601');
const nullableTimestamp = timestamp.nullable();

// ---- models
export const modelFieldsSchema = z.strictObject({
  name: z.string().min(1).max(200).describe('human name'),
  format: z.enum(['yolox']).describe('output head layout'),
});

export const modelSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  format: z.string(),
  sha256: z.string().describe('of the ONNX file; the same bytes are stored once'),
  size_bytes: z.number(),
  input_size: z.object({ width: z.number(), height: z.number() }),
  labels: z.array(z.string()),
  store: z
    .enum(['postgres', 's3', 'api_disk'])
    .describe("where every engine fetches the weights from: PostgreSQL, the S3-compatible store (big models), or only the API's disk (uploaded before the shared store, until the API copies it in)"),
  created_at: timestamp,
});

// ---- configs
const configBodyShape = configBodySchema.shape;
/**
 * The fields a GET shows that the server sets. A PUT may send them back, so that a fetched config is a
 * document that can be edited and PUT as it is: `id` must be the config in the path, `version` (when given)
 * the version the edit started from (optimistic concurrency: 409 if another PUT came first), the times are
 * ignored.
 */
const readOnlyShape = {
  id: z.uuid().optional().describe('read-only: when given, the config in the path'),
  version: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('read-only: when given, the version this edit started from; 409 if the config has changed since'),
  created_at: z.string().max(64).optional().describe('read-only, ignored'),
  updated_at: z.string().max(64).optional().describe('read-only, ignored'),
};

/**
 * One config document for POST, PUT and what GET answers: a fetched config can be edited and sent back as
 * it is. The read-only fields, `webhook: null` (none) and the webhook's redacted secrets (`***`, which keep
 * the stored ones on a PUT) are accepted; on a POST an `id` is a 422 (the server names configs).
 */
export const configCreateSchema = z.strictObject({
  name: z.string().min(1).max(200),
  client_id: clientIdSchema,
  model_id: z.uuid().describe('a model from POST /v1/models'),
  ...configBodyShape,
  webhook: configBodyShape.webhook.unwrap().nullable().optional().describe('where events are POSTed; null or absent: none'),
  ...readOnlyShape,
});
/** PUT replaces the whole body; client_id may be repeated but not changed (runs check ownership). */
export const configReplaceSchema = configCreateSchema.extend({ client_id: clientIdSchema.optional() });
export const configListQuerySchema = z.strictObject({ client_id: clientIdSchema.optional() });

// Sections are loose in responses: what is stored is what was validated at write time, and re-encoding
// old versions through a newer schema must not turn a read into a 500.
const section = z.unknown().describe('as in the request, defaults filled');
export const configSchema = z.object({
  id: z.uuid(),
  client_id: z.string(),
  name: z.string(),
  version: z.number().describe('current version; every PUT adds one'),
  model_id: z.uuid(),
  inference: section,
  rules: section,
  drawing: section,
  webhook: section.nullable().describe('where events are POSTed (URL password and header values redacted), or null'),
  created_at: timestamp,
  updated_at: timestamp,
});

// ---- runs
/** rtsp:// and rtsps:// with a host (credentials allowed), or a local file by absolute path. */
export function isAllowedSource(s: string): boolean {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return false;
  }
  if (u.protocol === 'rtsp:' || u.protocol === 'rtsps:') return u.hostname !== '';
  return u.protocol === 'file:' && s.startsWith('file:///') && u.pathname.length > 1;
}

const retrySchema = z
  .strictObject({
    max_attempts: z.number().int().min(0).max(1000).default(5).describe('reconnection attempts after a loss'),
    backoff_initial_s: z.number().positive().max(3600).default(1).describe('first wait; doubles per attempt'),
    backoff_max_s: z.number().positive().max(86_400).default(30).describe('longest wait'),
  })
  .refine((r) => r.backoff_initial_s <= r.backoff_max_s, {
    path: ['backoff_initial_s'],
    message: 'must be ≤ backoff_max_s',
  });

export const runCreateSchema = z.strictObject({
  client_id: clientIdSchema,
  config_id: z.uuid(),
  // Ambiguous userinfo or whitespace first (see urlInputProblem for why they are refused, not fixed).
  source_url: unambiguousUrl(z.string().max(4096))
    .refine(isAllowedSource, 'expected rtsp://host/…, rtsps://host/… or file:///absolute/path')
    .describe(
      'camera URL (credentials allowed, percent-encoded; never shown back) or file:///absolute/path under the media root ' +
        '(--media-root / SIE_MEDIA_ROOT; file sources are refused when none is set)',
    ),
  output: z
    .strictObject({ mount: mountSchema.max(200).optional().describe('RTSP path of the output; default the run id') })
    .default({}),
  retry: retrySchema.default({ max_attempts: 5, backoff_initial_s: 1, backoff_max_s: 30 }),
  connect_timeout_s: z.number().positive().max(600).default(10).describe('no first frame by then: failed'),
  pool: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'expected a pool name: lower-case letters, digits and "-", e.g. gpu')
    .optional()
    .describe("the kind of engine the run needs (an engine's --pool, e.g. gpu); any engine when absent"),
  source: z
    .strictObject({
      width: z.number().int().min(16).max(16384),
      height: z.number().int().min(16).max(16384),
      fps: z.number().positive().max(240),
    })
    .optional()
    .describe("the camera's size and frame rate, if known: the run's cost until an engine has opened it (1920 x 1080 at 25 fps assumed when absent); the engine then records what it measured"),
});

export const runListQuerySchema = z.strictObject({
  state: z.enum(RUN_STATES).optional(),
  client_id: clientIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const errorInfo = z.object({ kind: z.string(), message: z.string() }).nullable();
export const runSchema = z.object({
  id: z.uuid(),
  client_id: z.string(),
  config_id: z.uuid(),
  config_version: z.number().nullable(),
  state: z.enum(RUN_STATES),
  source_url: z.string().describe('credentials redacted: rtsp://user:***@host/…'),
  output: z.object({ mount: z.string() }),
  output_url: z
    .string()
    .nullable()
    .describe(
      'where to watch the annotated stream, set when an engine claims the run: with SIE_RTSP_PUBLIC_URL, that base and the mount (any engine answers it, redirecting to the one holding the run: it survives failover); else the holding engine\'s address',
    ),
  pool: z.string().nullable().describe('the engine pool the run asks for; null = any'),
  source: z
    .object({ width: z.number(), height: z.number(), fps: z.number() })
    .nullable()
    .describe("the source's size and rate: the hint given, then what the engine measured (they set the run's cost); null = unknown"),
  engine_output_url: z.string().nullable().describe('the holding engine\'s own address for the stream (what output_url redirects to)'),
  retry: z.object({ max_attempts: z.number(), backoff_initial_s: z.number(), backoff_max_s: z.number() }),
  connect_timeout_s: z.number(),
  attempts: z.number(),
  error: errorInfo,
  engine: z.string().nullable().describe('id of the engine running it'),
  stop_requested_at: nullableTimestamp,
  created_at: timestamp,
  claimed_at: nullableTimestamp,
  started_at: nullableTimestamp.describe('first time running'),
  ended_at: nullableTimestamp,
  counters: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe("the rules' current counters (occupancy, line counts…), written by the engine about once a second"),
  counters_at: nullableTimestamp.describe('when the counters were written'),
  flow: z
    .object({
      state: z.enum(['flowing', 'stalled', 'blocked']),
      blocked_at: z.string().nullable().describe('where a blocked run loses frames: inference, rules, drawing, output (queues) or encoder'),
      at: nullableTimestamp.describe('when the engine wrote this reading'),
    })
    .nullable()
    .describe('why frames do or do not come out of a live run: stalled = the source went quiet; blocked = a stage downstream cannot keep up (README, "Metrics and health")'),
});

export const transitionSchema = z.object({
  from: z.string().nullable(),
  to: z.string(),
  reason: z.string().nullable(),
  error: errorInfo,
  engine: z.string().nullable(),
  at: timestamp,
});
