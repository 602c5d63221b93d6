import { q, type Queryable } from '../rows.js';

/**
 * Deletes at most `limit` events created more than `olderThanS` seconds ago, oldest first; the caller
 * repeats until fewer come back, so one huge DELETE never holds locks or bloats WAL for long. SKIP LOCKED
 * leaves rows a deliverer is working on to the next round.
 */
export async function deleteOldEvents(db: Queryable, a: { olderThanS: number; limit: number }): Promise<number> {
  const { rowCount } = await q(
    db,
    `DELETE FROM events WHERE seq IN (
       SELECT seq FROM events WHERE created_at < now() - make_interval(secs => $1)
       ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
    [a.olderThanS, a.limit],
  );
  return rowCount ?? 0;
}
