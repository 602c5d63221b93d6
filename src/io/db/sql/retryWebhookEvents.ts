import { q, type Queryable } from '../rows.js';

/**
 * A failed attempt: the next one is due after initialS·2^(attempts−1), at most maxS, ±10 % jitter so the
 * events of one dead receiver do not all come back in the same instant. An event another engine
 * delivered meanwhile (after our lease expired) is left alone. initialS = 0 hands events back at once
 * (the deliverer stopping mid-request).
 */
export async function retryWebhookEvents(db: Queryable, a: { seqs: readonly string[]; initialS: number; maxS: number }): Promise<void> {
  if (a.seqs.length === 0) return;
  await q(
    db,
    `UPDATE events
     SET webhook_next_at = now() + make_interval(secs =>
           least($3::float8, $2::float8 * power(2, greatest(webhook_attempts - 1, 0))) * (0.9 + random() * 0.2))
     WHERE seq = ANY($1::bigint[]) AND webhook_delivered_at IS NULL`,
    [a.seqs, a.initialS, a.maxS],
  );
}
