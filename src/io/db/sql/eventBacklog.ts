import { q, type Queryable } from '../rows.js';

/**
 * Events not yet delivered, per sink: webhook (not delivered and still to be attempted; events of runs
 * without a webhook have webhook_next_at NULL) and MQTT (not published). Both counts follow the partial
 * indexes of migration 0002, so they stay cheap while the backlog is small.
 */
export async function eventBacklog(db: Queryable): Promise<{ webhook: number; mqtt: number }> {
  const { rows } = await q<{ webhook: string; mqtt: string }>(
    db,
    `SELECT
       (SELECT count(*) FROM events WHERE webhook_delivered_at IS NULL AND webhook_next_at IS NOT NULL) AS webhook,
       (SELECT count(*) FROM events WHERE mqtt_delivered_at IS NULL) AS mqtt`,
  );
  return { webhook: Number(rows[0]?.webhook ?? 0), mqtt: Number(rows[0]?.mqtt ?? 0) };
}
