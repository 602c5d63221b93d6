import { q, type Queryable, type RunRow } from '../rows.js';

/** Runs filtered by state and client, newest first, at most `limit` (runs accumulate; lists must not). */
export async function listRuns(
  db: Queryable,
  f: { state?: string | undefined; clientId?: string | undefined; limit: number },
): Promise<RunRow[]> {
  const { rows } = await q<RunRow>(
    db,
    `SELECT * FROM runs
     WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR client_id = $2)
     ORDER BY created_at DESC, id
     LIMIT $3`,
    [f.state ?? null, f.clientId ?? null, f.limit],
  );
  return rows;
}
