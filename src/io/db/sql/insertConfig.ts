import { q, type ConfigRow, type Queryable } from '../rows.js';

/**
 * Creates a config and its version 1 in one statement (the version row's trigger NOTIFYs
 * sie_config_changed). The model is read FOR KEY SHARE so a concurrent model delete waits for us; no row
 * comes back when the model does not exist or is deleted.
 */
export async function insertConfig(
  db: Queryable,
  c: { clientId: string; name: string; modelId: string; body: unknown },
): Promise<ConfigRow | undefined> {
  const { rows } = await q<ConfigRow>(
    db,
    `WITH m AS (
       SELECT id FROM models WHERE id = $3 AND deleted_at IS NULL FOR KEY SHARE
     ), c AS (
       INSERT INTO configs (client_id, name, model_id, body)
       SELECT $1, $2, m.id, $4::jsonb FROM m
       RETURNING *
     ), v AS (
       INSERT INTO config_versions (config_id, version, model_id, body)
       SELECT id, version, model_id, body FROM c
     )
     SELECT * FROM c`,
    [c.clientId, c.name, c.modelId, JSON.stringify(c.body)],
  );
  return rows[0];
}
