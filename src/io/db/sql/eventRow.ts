/** An events row as the event queries select it (bigints as text, as pg returns them). */
export interface EventRow {
  seq: string;
  id: string;
  run_id: string;
  client_id: string;
  rule_id: string;
  type: string;
  track_id: number | null;
  class: string | null;
  direction: string | null;
  frame_id: string;
  pts: number;
  time: Date;
  box: [number, number, number, number] | null;
  extra: Record<string, unknown>;
  /** The frame's trace and root span (migration 0004); null when tracing was off. */
  trace_id: string | null;
  span_id: string | null;
  created_at: Date;
}

/**
 * The columns every event query returns, in EventRow's shape. seq comes out as text, so ORDER BY must say
 * events.seq: a bare `seq` would sort by the text alias ("10" before "9").
 */
export const EVENT_COLUMNS = `seq::text AS seq, id, run_id, client_id, rule_id, type, track_id, class, direction,
  frame_id::text AS frame_id, pts, time, box, extra, trace_id, span_id, created_at`;
