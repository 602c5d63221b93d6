import type { Pool } from 'pg';

export interface RunTransitionWrite {
  runId: string;
  engineId: string;
  leaseEpoch: string;
  to: string;
  reason: string | null;
  error: { kind: string; message: string } | null;
  attempts: number;
}

/**
 * Persists one state change of a run and its transition row in one statement, FENCED by engine id and
 * lease epoch: if another engine took the run (our lease expired while we were paused), 0 rows match and
 * we return false — the caller stops the run at once instead of writing over the new owner.
 */
export async function recordRunTransition(pool: Pool, t: RunTransitionWrite): Promise<boolean> {
  const { rowCount } = await pool.query({
    name: 'sie-record-run-transition',
    text: `WITH prev AS (
       SELECT id, state FROM runs WHERE id = $1 AND engine_id = $2 AND lease_epoch = $3::bigint FOR UPDATE
     ), upd AS (
       UPDATE runs r
       SET state = $4, updated_at = now(), attempts = $7,
           error_kind = $5, error_message = $6,
           started_at = CASE WHEN $4 = 'running' THEN COALESCE(r.started_at, now()) ELSE r.started_at END,
           ended_at = CASE WHEN $4 IN ('stopped', 'failed', 'completed') THEN now() ELSE r.ended_at END,
           engine_id = CASE WHEN $4 IN ('stopped', 'failed', 'completed') THEN NULL ELSE r.engine_id END
       FROM prev WHERE r.id = prev.id
       RETURNING r.id, prev.state AS from_state
     )
     INSERT INTO run_transitions (run_id, from_state, to_state, reason, error_kind, error_message, engine_id, lease_epoch)
     SELECT id, from_state, $4, $8, $5, $6, $2, $3::bigint FROM upd`,
    values: [t.runId, t.engineId, t.leaseEpoch, t.to, t.error?.kind ?? null, storableText(t.error?.message), t.attempts, storableText(t.reason)],
  });
  return rowCount === 1;
}

/**
 * Text PostgreSQL stores: an error message can carry a NUL byte (a source's or ffmpeg's own words), which
 * a text column refuses outright (22021), and a run's last transition refused that way left it `running`
 * in the database after it had ended here.
 */
function storableText(text: string | null | undefined): string | null {
  return text == null ? null : text.replaceAll('\u0000', '\uFFFD');
}
