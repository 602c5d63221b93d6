import type { CrossingDirection, RuleEvent, RuleEventType } from '../rules/index.js';
import type { EventRow } from '../io/db/sql/eventRow.js';

/**
 * What every reader of the table gets (API list, SSE, webhook, MQTT): the RuleEvent exactly as the engine
 * emitted it, plus `seq`, the table's order, usable as a cursor (`?since=`, Last-Event-ID).
 */
export type StoredEvent = RuleEvent & { seq: number };

export function storedEventFromRow(r: EventRow): StoredEvent {
  const e: StoredEvent = {
    seq: Number(r.seq),
    id: r.id,
    run_id: r.run_id,
    client_id: r.client_id,
    rule_id: r.rule_id,
    type: r.type as RuleEventType,
    track_id: r.track_id,
    class: r.class,
    frame_id: Number(r.frame_id),
    pts: r.pts,
    time: r.time.toISOString(),
    box: r.box,
    extra: r.extra,
  };
  // RuleEvent has `direction` only on crossings: keep the shape the engine emitted.
  if (r.direction !== null) e.direction = r.direction as CrossingDirection;
  // Likewise the trace ids: only on events of a traced frame.
  if (r.trace_id !== null) e.trace_id = r.trace_id;
  if (r.span_id !== null) e.span_id = r.span_id;
  return e;
}
