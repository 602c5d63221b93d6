/**
 * What rules emit. One flat JSON-ready shape for every sink (database, SSE, webhook, MQTT).
 */

export type RuleEventType = 'enter' | 'leave' | 'dwell' | 'cross' | 'started' | 'ended';
export type CrossingDirection = 'in' | 'out';

export interface RuleEvent {
  /**
   * `${run_id}:${rule_id}:${track_id | "zone"}:${seq}` — seq is the engine's event counter, so the same input
   * always gives the same ids and a sink can use them as idempotency keys (delivery is at least once).
   */
  id: string;
  run_id: string;
  client_id: string;
  rule_id: string;
  type: RuleEventType;
  /** The object's track id; null for events about a zone as a whole (occupancy, absence). */
  track_id: number | null;
  /** Class name of the object; null for zone-wide events. */
  class: string | null;
  /** Only on `cross`. */
  direction?: CrossingDirection;
  /**
   * The frame the event happened on (so it can be lined up with the video). A debounced change is dated where it
   * happened, not where it was confirmed: `enter` = the first frame seen inside, `leave` = the first frame seen
   * outside (or the last seen inside when the track expired), `cross` = the first frame past the line. They are
   * emitted later, on the frame that confirmed them (by up to the rule's enter_after_s / leave_after_s /
   * cross_after_s), named then in `extra.confirmed_frame_id`; so events come in the order they were decided,
   * not always in frame_id order.
   */
  frame_id: number;
  /** With tracing on: the trace of the frame that emitted the event (`extra.confirmed_frame_id` when it is there,
   *  else frame_id; always kept: a frame that emitted an event is), 32 hex digits, and its root span (16).
   *  Absent when tracing is off and on the closing events of a stopped run. */
  trace_id?: string;
  span_id?: string;
  /** Source pts of frame_id, seconds. */
  pts: number;
  /** ISO time: the run's start wall clock + (pts − the run's first pts). Never the wall clock of processing. */
  time: string;
  /** The object's box, normalised xyxy (fractions of the frame); null for zone-wide events. */
  box: [number, number, number, number] | null;
  extra: Record<string, unknown>;
}

/** What a rule hands the engine; the engine adds ids, run, frame and time. */
export interface EventDraft {
  type: RuleEventType;
  trackId: number | null;
  classId: number | null;
  direction?: CrossingDirection;
  /** Pixels xyxy. */
  box: readonly number[] | null;
  extra: Record<string, unknown>;
  /** Tracks to highlight on this frame besides trackId (e.g. the objects that filled a zone). */
  highlight?: readonly number[];
  /** The earlier frame the event happened on, when it is confirmed later (debounce); default the current one. */
  at?: { frameId: number; ptsS: number };
}

export type Emit = (draft: EventDraft) => void;

export interface EventContext {
  runId: string;
  /** Distinguishes ids of one run executed more than once (another engine took it over: its counter
   *  restarts). Empty for a single execution, e.g. a replay. */
  idEpoch: string;
  clientId: string;
  labels: readonly string[];
  width: number;
  height: number;
  /** Wall clock (ms since epoch) of the run's start, and the pts that corresponds to it. */
  startedAtMs: number;
  startPtsS: number;
}

export function className(labels: readonly string[], classId: number): string {
  return labels[classId] ?? `class_${classId}`;
}

/** Rounded to 1e-4 of the frame (a tenth of a pixel at 1000 px): short JSON, same value on every run. */
function norm(v: number, size: number): number {
  return Math.round((v / size) * 10_000) / 10_000;
}

export function makeEvent(ctx: EventContext, ruleId: string, seq: number, frameId: number, ptsS: number, draft: EventDraft): RuleEvent {
  const b = draft.box;
  const event: RuleEvent = {
    id: `${ctx.runId}:${ctx.idEpoch ? `${ctx.idEpoch}:` : ''}${ruleId}:${draft.trackId ?? 'zone'}:${seq}`,
    run_id: ctx.runId,
    client_id: ctx.clientId,
    rule_id: ruleId,
    type: draft.type,
    track_id: draft.trackId,
    class: draft.classId === null ? null : className(ctx.labels, draft.classId),
    frame_id: frameId,
    pts: ptsS,
    time: new Date(ctx.startedAtMs + Math.round((ptsS - ctx.startPtsS) * 1000)).toISOString(),
    box: b ? [norm(b[0]!, ctx.width), norm(b[1]!, ctx.height), norm(b[2]!, ctx.width), norm(b[3]!, ctx.height)] : null,
    extra: draft.extra,
  };
  if (draft.direction) event.direction = draft.direction;
  return event;
}
