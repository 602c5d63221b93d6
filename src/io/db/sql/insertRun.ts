import { q, type Queryable, type RunRow } from '../rows.js';

export interface NewRun {
  clientId: string;
  configId: string;
  configVersion: number;
  sourceUrl: string;
  outputMount: string | null;
  retryMaxAttempts: number;
  retryBackoffInitialS: number;
  retryBackoffMaxS: number;
  connectTimeoutS: number;
  /** The engine pool it needs; null = any. */
  pool: string | null;
  /** The camera's size and rate if known (its cost until an engine measures them). */
  source: { width: number; height: number; fps: number } | null;
}

/**
 * The API's way into the documented runs contract: the same INSERT any service may do with plain SQL,
 * plus the pinned config version and the retry policy. The insert trigger records the 'created'
 * transition and NOTIFYs the engines. A mount already used by an unfinished run fails with 23505 on
 * runs_live_mount_idx (the caller answers 409).
 */
export async function insertRun(db: Queryable, r: NewRun): Promise<RunRow> {
  const { rows } = await q<RunRow>(
    db,
    `INSERT INTO runs (client_id, config_id, config_version, source_url, output_mount,
                       retry_max_attempts, retry_backoff_initial_s, retry_backoff_max_s, connect_timeout_s,
                       pool, source_width, source_height, source_fps)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     RETURNING *`,
    [
      r.clientId,
      r.configId,
      r.configVersion,
      r.sourceUrl,
      r.outputMount,
      r.retryMaxAttempts,
      r.retryBackoffInitialS,
      r.retryBackoffMaxS,
      r.connectTimeoutS,
      r.pool,
      r.source?.width ?? null,
      r.source?.height ?? null,
      r.source?.fps ?? null,
    ],
  );
  return rows[0]!;
}
