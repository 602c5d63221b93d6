import { q, type Queryable } from '../rows.js';

/**
 * Where the live run whose output mount is `mount` is served now, when another engine than `engineId`
 * holds it: its output_url (that engine's RTSP server). Any engine's RTSP server answers a consumer
 * with a redirect there, so one URL works whichever engine holds the run (src/io/rtsp/handler.ts).
 */
export async function locateRunMount(db: Queryable, mount: string, engineId: string): Promise<string | undefined> {
  const { rows } = await q<{ output_url: string }>(
    db,
    `SELECT output_url FROM runs
     WHERE COALESCE(output_mount, id::text) = $1
       AND state IN ('starting', 'connecting', 'running', 'retrying')
       AND engine_id IS NOT NULL AND engine_id <> $2 AND output_url IS NOT NULL
     ORDER BY claimed_at DESC
     LIMIT 1`,
    [mount, engineId],
  );
  return rows[0]?.output_url;
}
