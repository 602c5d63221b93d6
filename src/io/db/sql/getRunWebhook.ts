import { q, type Queryable } from '../rows.js';

/**
 * The `webhook` section (raw jsonb, NULL when absent) of the config version a run executes: the version
 * pinned on the run, or the config's current one while no engine has pinned it yet. undefined = no run.
 */
export async function getRunWebhook(db: Queryable, runId: string): Promise<{ webhook: unknown } | undefined> {
  const { rows } = await q<{ webhook: unknown }>(
    db,
    `SELECT cv.body -> 'webhook' AS webhook
     FROM runs r
     JOIN configs c ON c.id = r.config_id
     LEFT JOIN config_versions cv ON cv.config_id = r.config_id AND cv.version = COALESCE(r.config_version, c.version)
     WHERE r.id = $1`,
    [runId],
  );
  return rows[0];
}
