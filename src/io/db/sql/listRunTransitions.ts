import { q, type Queryable, type TransitionRow } from '../rows.js';

/**
 * A run's history in the order it happened (id order; `at` can tie within one transaction). ORDER BY names
 * the table column: the bare `id` would be the text output column and sort "10" before "9".
 */
export async function listRunTransitions(db: Queryable, runId: string): Promise<TransitionRow[]> {
  const { rows } = await q<TransitionRow>(
    db,
    `SELECT id::text, run_id, from_state, to_state, reason, error_kind, error_message, engine_id, at
     FROM run_transitions WHERE run_id = $1
     ORDER BY run_transitions.id`,
    [runId],
  );
  return rows;
}
