import { q, type Queryable } from '../rows.js';

/**
 * How many unfinished runs execute this model. A run executes the model of its pinned config version, or
 * of the config's current version when not yet pinned; both are counted, so a config that switched
 * models mid-run protects the old one and the new one.
 */
export async function unfinishedRunsUsingModel(db: Queryable, modelId: string): Promise<number> {
  const { rows } = await q<{ n: number }>(
    db,
    `SELECT count(*)::int AS n
     FROM runs r
     JOIN configs c ON c.id = r.config_id
     LEFT JOIN config_versions cv ON cv.config_id = r.config_id AND cv.version = r.config_version
     WHERE r.state NOT IN ('stopped', 'failed', 'completed')
       AND (c.model_id = $1 OR cv.model_id = $1)`,
    [modelId],
  );
  return rows[0]?.n ?? 0;
}
