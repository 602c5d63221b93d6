import type { Pool } from 'pg';

/**
 * Runs of engines whose lease expired (the process died or hung) go back to `pending` so any engine can
 * take them; a run whose stop was requested meanwhile goes to `stopped` instead. The dead engines' rows
 * are deleted, which also tells a merely paused engine, when it wakes, that it lost its runs.
 * Returns how many runs were put back.
 *
 * `selfId`, the calling engine, is never reclaimed: it is evidently alive (it is running this statement),
 * and its runs are still executing. Its lease can look expired after the database was down for longer
 * than the TTL (no heartbeat could land); when the database returns, the poll's claim round often runs
 * before the next heartbeat, and reclaiming ourselves would stop every stream we carry (lease lost), only
 * to claim the same runs again. Our next heartbeat renews the lease instead; another engine may still
 * reclaim us meanwhile, and then our fenced writes fail and we stop, as designed.
 */
export async function reclaimExpiredRuns(pool: Pool, selfId: string | null = null): Promise<number> {
  const { rows } = await pool.query<{ n: string }>({
    name: 'sie-reclaim-expired-runs',
    text: `WITH dead AS (
       DELETE FROM engines WHERE lease_expires_at < now() AND id IS DISTINCT FROM $1 RETURNING id
     ), prev AS (
       SELECT r.id, r.state AS old_state, dead.id AS old_engine
       FROM runs r JOIN dead ON r.engine_id = dead.id
       WHERE r.state NOT IN ('stopped', 'failed', 'completed', 'pending')
       FOR UPDATE OF r
     ), moved AS (
       UPDATE runs r
       SET state = CASE WHEN r.stop_requested_at IS NULL THEN 'pending' ELSE 'stopped' END,
           ended_at = CASE WHEN r.stop_requested_at IS NULL THEN NULL ELSE now() END,
           engine_id = NULL, updated_at = now()
       FROM prev
       WHERE r.id = prev.id
       RETURNING r.id, r.state, prev.old_state, prev.old_engine
     ), transition AS (
       INSERT INTO run_transitions (run_id, from_state, to_state, reason, engine_id)
       SELECT id, old_state, state, 'engine ' || old_engine || ' lease expired', NULL FROM moved
     )
     SELECT count(*)::text AS n FROM moved`,
    values: [selfId],
  });
  return Number(rows[0]?.n ?? 0);
}
