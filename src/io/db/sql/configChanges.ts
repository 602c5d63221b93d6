import type { Pool } from 'pg';

/**
 * Our runs whose config has a newer version than the one they execute. The backstop for the
 * `sie_config_changed` NOTIFY: checked every poll, so a lost notification delays a change by one poll.
 */
export async function staleConfigRuns(pool: Pool, engineId: string): Promise<{ run_id: string; config_id: string }[]> {
  const { rows } = await pool.query<{ run_id: string; config_id: string }>({
    name: 'sie-stale-config-runs',
    // Our runs first (MATERIALIZED): planned generically, the join started from the config and read every
    // run using it, 2 ms a poll when 10,000 runs share one config (the scale test's top statement).
    text: `WITH mine AS MATERIALIZED (
       SELECT id, config_id, config_version FROM runs
       WHERE engine_id = $1 AND state NOT IN ('stopping', 'stopped', 'failed', 'completed')
     )
     SELECT m.id AS run_id, m.config_id FROM mine m JOIN configs c ON c.id = m.config_id
     WHERE c.version > m.config_version AND c.deleted_at IS NULL`,
    values: [engineId],
  });
  return rows;
}

/** The current version of a config, as a run executes it. */
export async function currentConfigVersion(pool: Pool, configId: string): Promise<{ version: number; body: unknown; model_id: string } | undefined> {
  const { rows } = await pool.query<{ version: number; body: unknown; model_id: string }>(
    `SELECT cv.version, cv.body, cv.model_id FROM configs c
     JOIN config_versions cv ON cv.config_id = c.id AND cv.version = c.version
     WHERE c.id = $1 AND c.deleted_at IS NULL`,
    [configId],
  );
  return rows[0];
}

/** Records the version a run now executes, fenced by the lease like every write of the owning engine. */
export async function setRunConfigVersion(pool: Pool, a: { runId: string; engineId: string; leaseEpoch: string; version: number }): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE runs SET config_version = $4, updated_at = now() WHERE id = $1 AND engine_id = $2 AND lease_epoch = $3::bigint`,
    [a.runId, a.engineId, a.leaseEpoch, a.version],
  );
  return rowCount === 1;
}
