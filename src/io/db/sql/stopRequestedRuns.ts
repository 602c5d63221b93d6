import type { Pool } from 'pg';

/**
 * Our runs whose stop was requested (by the API or by SQL). Polled every cycle as the backstop for the
 * `sie_run_stop` NOTIFY, so a stop is seen within one poll interval even if a notification is lost.
 */
export async function stopRequestedRuns(pool: Pool, engineId: string): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>({
    name: 'sie-stop-requested-runs',
    text: `SELECT id FROM runs
     WHERE engine_id = $1 AND stop_requested_at IS NOT NULL AND state NOT IN ('stopping', 'stopped', 'failed', 'completed')`,
    values: [engineId],
  });
  return rows.map((r) => r.id);
}
