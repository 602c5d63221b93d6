import type { Pool } from 'pg';

/**
 * Clean shutdown (SIGTERM): hands one of our unfinished runs back to `pending` for another engine,
 * fenced like every write; the runs table's trigger NOTIFYs waiting engines. A run whose stop was
 * requested is finished as `stopped` instead of being handed on. Also what the heartbeat's backstop does
 * with a run the database says we hold and we do not run (`reason` says which).
 */
export async function releaseRun(pool: Pool, a: { runId: string; engineId: string; leaseEpoch: string; reason?: string }): Promise<boolean> {
  const { rowCount } = await pool.query(
    `WITH prev AS (
       SELECT id, state, stop_requested_at FROM runs
       WHERE id = $1 AND engine_id = $2 AND lease_epoch = $3::bigint
         AND state NOT IN ('stopped', 'failed', 'completed', 'pending')
       FOR UPDATE
     ), upd AS (
       UPDATE runs r
       SET state = CASE WHEN prev.stop_requested_at IS NULL THEN 'pending' ELSE 'stopped' END,
           ended_at = CASE WHEN prev.stop_requested_at IS NULL THEN NULL ELSE now() END,
           engine_id = NULL, updated_at = now()
       FROM prev WHERE r.id = prev.id
       RETURNING r.id, r.state, prev.state AS from_state
     )
     INSERT INTO run_transitions (run_id, from_state, to_state, reason, engine_id, lease_epoch)
     SELECT id, from_state, state, $4, $2, $3::bigint FROM upd`,
    [a.runId, a.engineId, a.leaseEpoch, a.reason ?? 'released: engine shutting down'],
  );
  return rowCount === 1;
}
