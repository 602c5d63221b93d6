import { q, type Queryable } from '../rows.js';

/** Cheaper than getRun where only existence matters (the events routes' 404). */
export async function runExists(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await q(db, `SELECT 1 FROM runs WHERE id = $1`, [id]);
  return rowCount === 1;
}
