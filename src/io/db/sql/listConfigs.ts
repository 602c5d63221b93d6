import { q, type ConfigRow, type Queryable } from '../rows.js';

/** Configs not deleted, of one client when given, newest first. */
export async function listConfigs(db: Queryable, f: { clientId?: string | undefined }): Promise<ConfigRow[]> {
  const { rows } = await q<ConfigRow>(
    db,
    `SELECT * FROM configs
     WHERE deleted_at IS NULL AND ($1::text IS NULL OR client_id = $1)
     ORDER BY created_at DESC, id`,
    [f.clientId ?? null],
  );
  return rows;
}
