import { q, type Queryable, type RunRow } from '../rows.js';

/**
 * POST /v1/runs/{id}/stop in one statement. An unclaimed run is finished here and now ('stopped before
 * start', with its transition): no engine would ever look at it. A claimed one only gets
 * stop_requested_at; its trigger NOTIFYs sie_run_stop and the owning engine stops it and writes the
 * transitions. FOR UPDATE orders us against a claim in progress (the engine's SKIP LOCKED passes over a
 * run we hold; if the engine holds it we wait and see it claimed). No row: unknown or already finished.
 */
export async function requestRunStop(db: Queryable, id: string): Promise<(RunRow & { prev_state: string }) | undefined> {
  const { rows } = await q<RunRow & { prev_state: string }>(
    db,
    `WITH prev AS (
       SELECT id, state FROM runs WHERE id = $1 FOR UPDATE
     ), upd AS (
       UPDATE runs r
       SET stop_requested_at = COALESCE(r.stop_requested_at, now()),
           state = CASE WHEN prev.state = 'pending' THEN 'stopped' ELSE r.state END,
           ended_at = CASE WHEN prev.state = 'pending' THEN now() ELSE r.ended_at END,
           updated_at = now()
       FROM prev
       WHERE r.id = prev.id AND prev.state NOT IN ('stopped', 'failed', 'completed')
       RETURNING r.*, prev.state AS prev_state
     ), t AS (
       INSERT INTO run_transitions (run_id, from_state, to_state, reason)
       SELECT id, 'pending', 'stopped', 'stopped before start' FROM upd WHERE prev_state = 'pending'
     )
     SELECT * FROM upd`,
    [id],
  );
  return rows[0];
}
