import { q, type ConfigRow, type Queryable } from '../rows.js';

/**
 * A PUT: bumps the version and appends the version row in one statement, so the current body and the
 * history never disagree. Concurrent PUTs serialise on the config row and get consecutive versions. No
 * row when the config is gone, the model does not exist (the caller checked both just before, so that
 * means a concurrent delete) or the config is no longer at `fromVersion`.
 */
export async function updateConfig(
  db: Queryable,
  c: { id: string; name: string; modelId: string; body: unknown; /** Only if the config is still at this version. */ fromVersion?: number },
): Promise<ConfigRow | undefined> {
  const { rows } = await q<ConfigRow>(
    db,
    `WITH m AS (
       SELECT id FROM models WHERE id = $3 AND deleted_at IS NULL FOR KEY SHARE
     ), c AS (
       UPDATE configs
       SET name = $2, model_id = m.id, body = $4::jsonb, version = configs.version + 1, updated_at = now()
       FROM m
       WHERE configs.id = $1 AND configs.deleted_at IS NULL AND ($5::int IS NULL OR configs.version = $5)
       RETURNING configs.*
     ), v AS (
       INSERT INTO config_versions (config_id, version, model_id, body)
       SELECT id, version, model_id, body FROM c
     )
     SELECT * FROM c`,
    [c.id, c.name, c.modelId, JSON.stringify(c.body), c.fromVersion ?? null],
  );
  return rows[0];
}
