import { qNamed, type Queryable } from '../rows.js';
import { EVENT_COLUMNS, type EventRow } from './eventRow.js';

/** What one claim brings back: the events claimed, and when the next attempt of any other falls due. */
export interface WebhookClaim {
  rows: (EventRow & { webhook_attempts: number })[];
  /** Seconds until the earliest attempt of an event not claimed here falls due (a retry's backoff, another
   *  engine's claim lease), ≤ 0 when one is due already (locked by another claim), null when none is left. */
  nextDueS: number | null;
}

/**
 * Claims up to `limit` events whose webhook attempt is due, in one statement (graphile-worker's getJobs
 * pattern): SKIP LOCKED lets two engines claim side by side, and pushing webhook_next_at out by `leaseS`
 * is the lock that outlives the statement, so no connection is held during the HTTP request. If this
 * process dies mid-request the lease expires and the event is sent again: at least once.
 *
 * The same statement reads when the next of the others falls due (the earliest entry of
 * events_webhook_due_idx), which is how long an idle deliverer sleeps: one statement per idle wait, not
 * two (at 200 engines each idle every 10 s, the second one was 20 statements a second).
 */
export async function claimWebhookEvents(db: Queryable, a: { limit: number; leaseS: number }): Promise<WebhookClaim> {
  const { rows } = await qNamed<ClaimedRow | NoClaim>(
    db,
    // Named: every engine sends it at every poll, and its planning cost more than running it.
    'sie-claim-webhook-events',
    `WITH due AS (
       SELECT seq AS due_seq FROM events
       WHERE webhook_delivered_at IS NULL AND webhook_next_at <= now()
       ORDER BY webhook_next_at, seq
       LIMIT $1
       FOR UPDATE SKIP LOCKED
     ), claimed AS (
       UPDATE events SET webhook_attempts = webhook_attempts + 1, webhook_next_at = now() + make_interval(secs => $2)
       FROM due WHERE seq = due.due_seq
       RETURNING ${EVENT_COLUMNS}, webhook_attempts
     ), next AS (
       -- The statement's snapshot still shows the claimed rows as due: they are left out.
       SELECT extract(epoch FROM min(e.webhook_next_at) - now())::float8 AS next_due_s FROM events e
       WHERE e.webhook_delivered_at IS NULL AND e.webhook_next_at IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM due WHERE due.due_seq = e.seq)
     )
     -- One row even when nothing was claimed: next_due_s with the event columns NULL.
     SELECT claimed.*, next.next_due_s FROM next LEFT JOIN claimed ON true`,
    [a.limit, a.leaseS],
  );
  const nextDueS = rows[0]?.next_due_s ?? null;
  const claimed = rows.filter((r): r is ClaimedRow => r.seq !== null);
  return { rows: claimed.map(({ next_due_s: _, ...row }) => row), nextDueS };
}

type ClaimedRow = EventRow & { webhook_attempts: number; next_due_s: number | null };

/** The row of a claim that took nothing. */
interface NoClaim {
  seq: null;
  next_due_s: number | null;
}
