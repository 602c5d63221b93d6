import { q, type Queryable } from '../rows.js';
import type { RuleEvent } from '../../../rules/index.js';

/**
 * Appends events in one statement; an id already stored is skipped (ON CONFLICT DO NOTHING), so a batch
 * retried after a lost COMMIT answer, or replayed by a second engine, never duplicates a row. The batch
 * travels as one JSON parameter (jsonb_to_recordset): one round trip whatever its size. Returns how many
 * rows were new. ORDER BY keeps seq in the order the events were appended.
 */
export async function insertEvents(db: Queryable, events: readonly RuleEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const { rowCount } = await q(
    db,
    `INSERT INTO events (id, run_id, client_id, rule_id, type, track_id, class, direction, frame_id, pts, time, box, extra,
                         trace_id, span_id)
     SELECT x.id, x.run_id, x.client_id, x.rule_id, x.type, x.track_id, x.class, x.direction, x.frame_id, x.pts, x.time,
            x.box, COALESCE(x.extra, '{}'::jsonb), x.trace_id, x.span_id
     FROM jsonb_to_recordset($1::jsonb) AS x(id text, run_id uuid, client_id text, rule_id text, type text, track_id int,
          class text, direction text, frame_id bigint, pts double precision, time timestamptz, box jsonb, extra jsonb,
          trace_id text, span_id text, ord int)
     ORDER BY x.ord
     ON CONFLICT (id) DO NOTHING`,
    [JSON.stringify(events.map((e, ord) => ({ ...e, ord })))],
  );
  return rowCount ?? 0;
}
