import type { Pool } from 'pg';

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
