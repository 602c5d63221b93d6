import type { WebhookConfig } from '../../config/webhook.js';
import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';

/** A pool or a client inside a transaction: every query function takes either. */
export type Queryable = Pool | PoolClient;

/** Calls query on either kind; TS cannot resolve an overloaded method on the union directly. */
export function q<R extends QueryResultRow>(db: Queryable, text: string, values: unknown[] = []): Promise<QueryResult<R>> {
  return (db as Pool).query<R>(text, values);
}

/**
 * q, as a named statement: parsed and planned once per connection, then only executed. For the statements
 * every engine sends every second (claims, heartbeats, fenced writes): at 200 engines their planning was a
 * good part of PostgreSQL's CPU. Needs a session-mode pooler, if any (named statements live in the session).
 */
export function qNamed<R extends QueryResultRow>(db: Queryable, name: string, text: string, values: unknown[] = []): Promise<QueryResult<R>> {
  return (db as Pool).query<R>({ name, text, values });
}

/** Rows as pg returns them: bigint as string, timestamptz as Date, jsonb parsed. */
export interface ModelRow {
  id: string;
  name: string;
  format: string;
  sha256: string;
  file_path: string;
  labels_path: string;
  size_bytes: string;
  input_width: number;
  input_height: number;
  labels: string[];
  /** Chunks in model_blobs (migration 0006); null: not there. */
  blob_chunks: number | null;
  /** s3://bucket/key of the weights in the S3 store (migration 0011); null: not there. */
  object_url: string | null;
  created_at: Date;
  deleted_at: Date | null;
}

export interface ConfigRow {
  id: string;
  client_id: string;
  name: string;
  version: number;
  model_id: string;
  body: { inference: unknown; rules: unknown; drawing: unknown; webhook?: WebhookConfig };
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

export const FINISHED_STATES = ['stopped', 'failed', 'completed'] as const;
export const RUN_STATES = ['pending', 'starting', 'connecting', 'running', 'retrying', 'stopping', ...FINISHED_STATES] as const;
/** A run row's `state` column: the machine's states (RunStateName) plus pending, before any engine took it. */
export type RunRowState = (typeof RUN_STATES)[number];

export interface RunRow {
  id: string;
  client_id: string;
  config_id: string;
  config_version: number | null;
  source_url: string;
  output_mount: string | null;
  retry_max_attempts: number;
  retry_backoff_initial_s: number;
  retry_backoff_max_s: number;
  connect_timeout_s: number;
  state: RunRowState;
  stop_requested_at: Date | null;
  attempts: number;
  error_kind: string | null;
  error_message: string | null;
  engine_id: string | null;
  lease_epoch: string;
  output_url: string | null;
  /** The engine pool the run asks for (migration 0007); null = any. */
  pool: string | null;
  /** The source's size and rate: the inserter's hint, then what the engine measured (the run's cost). */
  source_width: number | null;
  source_height: number | null;
  source_fps: number | null;
  created_at: Date;
  claimed_at: Date | null;
  started_at: Date | null;
  ended_at: Date | null;
  updated_at: Date;
}

export interface TransitionRow {
  id: string;
  run_id: string;
  from_state: string | null;
  to_state: string;
  reason: string | null;
  error_kind: string | null;
  error_message: string | null;
  engine_id: string | null;
  at: Date;
}
