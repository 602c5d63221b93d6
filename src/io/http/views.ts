import { redactWebhook } from '../../config/webhook.js';
import type { z } from 'zod';
import { redactText } from '../../redact.js';
import type { ConfigRow, ModelRow, RunRow, TransitionRow } from '../db/rows.js';
import type { configSchema, modelSchema, runSchema, transitionSchema } from './schemas.js';

/** Rows → response bodies. The only place a stored camera URL or error text leaves: always redacted. */

const iso = (d: Date): string => d.toISOString();
const isoOrNull = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function modelView(m: ModelRow): z.infer<typeof modelSchema> {
  return {
    id: m.id,
    name: m.name,
    format: m.format,
    sha256: m.sha256,
    size_bytes: Number(m.size_bytes),
    input_size: { width: m.input_width, height: m.input_height },
    labels: m.labels,
    store: storeOf(m),
    created_at: iso(m.created_at),
  };
}

/** Where the weights are, as a word (the object's URL is not shown: the bucket layout is the operator's). */
function storeOf(m: ModelRow): z.infer<typeof modelSchema>['store'] {
  if (m.object_url !== null) return 's3';
  if (m.blob_chunks !== null) return 'postgres';
  return 'api_disk';
}

export function configView(c: ConfigRow): z.infer<typeof configSchema> {
  return {
    id: c.id,
    client_id: c.client_id,
    name: c.name,
    version: c.version,
    model_id: c.model_id,
    inference: c.body.inference,
    rules: c.body.rules,
    drawing: c.body.drawing,
    // Shown so clients can see their setting, with the URL password and header values hidden.
    webhook: c.body.webhook ? redactWebhook(c.body.webhook) : null,
    created_at: iso(c.created_at),
    updated_at: iso(c.updated_at),
  };
}

function errorOf(kind: string | null, message: string | null): { kind: string; message: string } | null {
  return kind || message ? { kind: kind ?? 'unknown', message: redactText(message ?? '') } : null;
}

/** runs.counters/counters_at (migration 0002): `SELECT *` returns them; RunRow predates them. */
type RunWithCounters = RunRow & {
  counters?: Record<string, unknown> | null;
  counters_at?: Date | null;
  /** runs.flow/flow_stage/flow_at (migration 0003). */
  flow?: 'flowing' | 'stalled' | 'blocked' | null;
  flow_stage?: string | null;
  flow_at?: Date | null;
};

/** Only a live run has a flow: once it ended (or before an engine ran it) the last reading means nothing. */
const FLOWING_STATES = new Set(['connecting', 'running', 'retrying']);

function flowOf(r: RunWithCounters): z.infer<typeof runSchema>['flow'] {
  if (!r.flow || !FLOWING_STATES.has(r.state)) return null;
  return { state: r.flow, blocked_at: r.flow === 'blocked' ? (r.flow_stage ?? null) : null, at: isoOrNull(r.flow_at ?? null) };
}

/**
 * The run's output URL as consumers get it: with a public RTSP base (SIE_RTSP_PUBLIC_URL, e.g. a Service in
 * front of every engine) the base and the mount, which any engine answers (redirecting to the holder), so
 * it stays the same through failover; without one, the holding engine's own address.
 */
function outputUrlOf(r: RunWithCounters, publicRtspUrl: string | undefined): string | null {
  if (r.output_url === null) return null;
  if (publicRtspUrl === undefined) return redactText(r.output_url);
  return `${publicRtspUrl.replace(/\/+$/, '')}/${r.output_mount ?? r.id}`;
}

export function runView(r: RunWithCounters, publicRtspUrl?: string): z.infer<typeof runSchema> {
  return {
    id: r.id,
    client_id: r.client_id,
    config_id: r.config_id,
    config_version: r.config_version,
    state: r.state,
    source_url: redactText(r.source_url),
    output: { mount: r.output_mount ?? r.id },
    output_url: outputUrlOf(r, publicRtspUrl),
    engine_output_url: r.output_url === null ? null : redactText(r.output_url),
    pool: r.pool,
    source: r.source_width !== null && r.source_height !== null && r.source_fps !== null ? { width: r.source_width, height: r.source_height, fps: r.source_fps } : null,
    retry: {
      max_attempts: r.retry_max_attempts,
      backoff_initial_s: r.retry_backoff_initial_s,
      backoff_max_s: r.retry_backoff_max_s,
    },
    connect_timeout_s: r.connect_timeout_s,
    attempts: r.attempts,
    error: errorOf(r.error_kind, r.error_message),
    engine: r.engine_id,
    stop_requested_at: isoOrNull(r.stop_requested_at),
    created_at: iso(r.created_at),
    claimed_at: isoOrNull(r.claimed_at),
    started_at: isoOrNull(r.started_at),
    ended_at: isoOrNull(r.ended_at),
    counters: r.counters ?? null,
    counters_at: isoOrNull(r.counters_at ?? null),
    flow: flowOf(r),
  };
}

export function transitionView(t: TransitionRow): z.infer<typeof transitionSchema> {
  return {
    from: t.from_state,
    to: t.to_state,
    reason: t.reason === null ? null : redactText(t.reason),
    error: errorOf(t.error_kind, t.error_message),
    engine: t.engine_id,
    at: iso(t.at),
  };
}
