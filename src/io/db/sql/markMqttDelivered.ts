import { q, type Queryable } from '../rows.js';

/** The broker acknowledged these events (PUBACK): they leave the MQTT backlog. */
export async function markMqttDelivered(db: Queryable, seqs: readonly string[]): Promise<void> {
  if (seqs.length === 0) return;
  await q(db, `UPDATE events SET mqtt_delivered_at = now() WHERE seq = ANY($1::bigint[])`, [seqs]);
}
