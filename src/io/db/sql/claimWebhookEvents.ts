import { qNamed, type Queryable } from '../rows.js';
import { EVENT_COLUMNS, type EventRow } from './eventRow.js';

/**
 * Claims up to `limit` events whose webhook attempt is due, in one statement (graphile-worker's getJobs
 * pattern): SKIP LOCKED lets two engines claim side by side, and pushing webhook_next_at out by `leaseS`
 * is the lock that outlives the statement, so no connection is held during the HTTP request. If this
 * process dies mid-request the lease expires and the event is sent again: at least once.
 */
export async function claimWebhookEvents(
  db: Queryable,
  a: { limit: number; leaseS: number },
): Promise<(EventRow & { webhook_attempts: number })[]> {
  const { rows } = await qNamed<EventRow & { webhook_attempts: number }>(
    db,
    // Named: every engine sends it at every poll, and its planning cost more than running it.
    'sie-claim-webhook-events',
    `WITH due AS (
       SELECT seq AS due_seq FROM events
       WHERE webhook_delivered_at IS NULL AND webhook_next_at <= now()
       ORDER BY webhook_next_at, seq
       LIMIT $1
       FOR UPDATE SKIP LOCKED
     )
     UPDATE events SET webhook_attempts = webhook_attempts + 1, webhook_next_at = now() + make_interval(secs => $2)
     FROM due WHERE seq = due.due_seq
     RETURNING ${EVENT_COLUMNS}, webhook_attempts`,
    [a.limit, a.leaseS],
  );
  return rows;
}
