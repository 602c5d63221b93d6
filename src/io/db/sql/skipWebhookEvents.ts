import { q, type Queryable } from '../rows.js';

/** Events of runs that have no webhook: nothing to send, so they leave the due index (attempts not counted). */
export async function skipWebhookEvents(db: Queryable, seqs: readonly string[]): Promise<void> {
  if (seqs.length === 0) return;
  await q(
    db,
    `UPDATE events SET webhook_next_at = NULL, webhook_attempts = greatest(webhook_attempts - 1, 0)
     WHERE seq = ANY($1::bigint[]) AND webhook_delivered_at IS NULL`,
    [seqs],
  );
}
