import { q, type Queryable } from '../rows.js';

export interface RunConfigCheck {
  id: string;
  client_id: string;
  version: number;
  model_deleted: boolean;
}

/**
 * What a run creation checks (exists, same client, current version, model still there), read FOR KEY
 * SHARE inside the creating transaction: a concurrent delete of the config or its model (FOR UPDATE)
 * then waits for our run and sees it, instead of deleting what the new run is about to use.
 */
export async function lockConfigForRun(db: Queryable, configId: string): Promise<RunConfigCheck | undefined> {
  const { rows } = await q<RunConfigCheck>(
    db,
    `SELECT c.id, c.client_id, c.version, (m.deleted_at IS NOT NULL) AS model_deleted
     FROM configs c JOIN models m ON m.id = c.model_id
     WHERE c.id = $1 AND c.deleted_at IS NULL
     FOR KEY SHARE OF c, m`,
    [configId],
  );
  return rows[0];
}
