import { q, type Queryable } from '../rows.js';

/** The receiver answered 2xx: nothing left to do for these events (they leave the due index). */
export async function markWebhookDelivered(db: Queryable, seqs: readonly string[]): Promise<void> {
  if (seqs.length === 0) return;
  await q(db, `UPDATE events SET webhook_delivered_at = now(), webhook_next_at = NULL WHERE seq = ANY($1::bigint[])`, [seqs]);
}
