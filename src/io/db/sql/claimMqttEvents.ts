import { q, type Queryable } from '../rows.js';
import { EVENT_COLUMNS, type EventRow } from './eventRow.js';

/**
 * The oldest events not yet published to MQTT, row-locked for the caller's transaction: publishing
 * (QoS 1, a broker ack per message) is quick, so the MQTT deliverer holds the lock until it marks them
 * delivered in the same transaction; a second engine SKIPs them meanwhile.
 */
export async function claimMqttEvents(db: Queryable, limit: number): Promise<EventRow[]> {
  const { rows } = await q<EventRow>(
    db,
    `SELECT ${EVENT_COLUMNS} FROM events WHERE mqtt_delivered_at IS NULL ORDER BY events.seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows;
}
