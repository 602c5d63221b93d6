import { qNamed, type Queryable } from '../rows.js';

/**
 * Seconds until the next webhook attempt falls due (a retry's backoff, another engine's claim lease), ≤ 0
 * when one is due already, null when nothing is left to send. The earliest entry of events_webhook_due_idx.
 */
export async function nextWebhookDueS(db: Queryable): Promise<number | null> {
  const { rows } = await qNamed<{ s: number | null }>(
    db,
    'sie-next-webhook-due',
    `SELECT extract(epoch FROM min(webhook_next_at) - now())::float8 AS s FROM events
     WHERE webhook_delivered_at IS NULL AND webhook_next_at IS NOT NULL`,
  );
  return rows[0]?.s ?? null;
}
