import { q, type Queryable } from '../rows.js';
import { EVENT_COLUMNS, type EventRow } from './eventRow.js';

/** A run's events after the cursor `since` (a seq), oldest first: the API's list and the SSE stream. */
export async function listRunEvents(db: Queryable, a: { runId: string; since: string; limit: number }): Promise<EventRow[]> {
  const { rows } = await q<EventRow>(
    db,
    `SELECT ${EVENT_COLUMNS} FROM events WHERE run_id = $1 AND seq > $2::bigint ORDER BY events.seq LIMIT $3`,
    [a.runId, a.since, a.limit],
  );
  return rows;
}
