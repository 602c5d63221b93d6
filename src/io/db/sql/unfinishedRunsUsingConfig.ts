import { q, type Queryable } from '../rows.js';

/** How many runs of this config are not finished (pending ones included: they will start). */
export async function unfinishedRunsUsingConfig(db: Queryable, configId: string): Promise<number> {
  const { rows } = await q<{ n: number }>(
    db,
    `SELECT count(*)::int AS n FROM runs WHERE config_id = $1 AND state NOT IN ('stopped', 'failed', 'completed')`,
    [configId],
  );
  return rows[0]?.n ?? 0;
}
