import { q, type Queryable } from '../rows.js';

/**
 * Live configs whose current version names this model (at most `limit`, oldest first) and how many there
 * are. Called by a model delete after lockModel: configs being created or updated hold FOR KEY SHARE on the
 * model row, so they either committed before the lock (and are counted here) or wait and then find the
 * model deleted.
 */
export async function configsUsingModel(
  db: Queryable,
  modelId: string,
  limit = 10,
): Promise<{ total: number; configs: { id: string; name: string }[] }> {
  const { rows } = await q<{ id: string; name: string; total: number }>(
    db,
    `SELECT id, name, count(*) OVER ()::int AS total
     FROM configs WHERE model_id = $1 AND deleted_at IS NULL
     ORDER BY created_at, id
     LIMIT $2`,
    [modelId, limit],
  );
  return { total: rows[0]?.total ?? 0, configs: rows.map(({ id, name }) => ({ id, name })) };
}
