import { q, type Queryable } from '../rows.js';

/** Deletes a finished run and (cascade) its transitions. False: unknown, or not finished yet. */
export async function deleteRun(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await q(db, `DELETE FROM runs WHERE id = $1 AND state IN ('stopped', 'failed', 'completed')`, [id]);
  return rowCount === 1;
}
