import { q, type Queryable } from '../rows.js';

/**
 * Where the live run whose output mount is `mount` is served now, when another engine than `engineId`
 * holds it: its output_url (that engine's RTSP server). Any engine's RTSP server answers a consumer
 * with a redirect there, so one URL works whichever engine holds the run (src/io/rtsp/handler.ts).
 * Only a holder whose lease is current: a crashed engine's runs keep its id until they are reclaimed (up
 * to a lease TTL), and a redirect to a pod that is gone leaves the client's TCP connect hanging for
 * minutes, where a 404 has it retry the same URL and reach the new holder.
 */
export async function locateRunMount(db: Queryable, mount: string, engineId: string): Promise<string | undefined> {
  const { rows } = await q<{ output_url: string }>(
    db,
    `SELECT r.output_url FROM runs r JOIN engines e ON e.id = r.engine_id AND e.lease_expires_at > now()
     WHERE COALESCE(r.output_mount, r.id::text) = $1
       AND r.state IN ('starting', 'connecting', 'running', 'retrying')
       AND r.engine_id <> $2 AND r.output_url IS NOT NULL
     ORDER BY r.claimed_at DESC
     LIMIT 1`,
    [mount, engineId],
  );
  return rows[0]?.output_url;
}
