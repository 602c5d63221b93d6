import { q, type Queryable } from '../rows.js';

/** How many runs are in each persisted state (the API's sie_runs gauge). */
export async function runsByState(db: Queryable): Promise<Record<string, number>> {
  const { rows } = await q<{ state: string; n: string }>(db, `SELECT state, count(*) AS n FROM runs GROUP BY state`);
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}
