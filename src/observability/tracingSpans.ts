import type { FrameTraceContext, StageName, StageTiming } from '../frame.js';
import type { FrameOrigin, FrameOutput } from '../pipeline/frameTimings.js';
import type { DropPoint } from '../pipeline/runStore.js';

/**
 * A frame's trace, as plain data: built after the fact from what the pipeline already measured (the
 * FrameRecord's stage timings, the output clock's hand-over and access unit), with explicit start and end
 * times. No span object lives while the frame is in flight, so a frame that is not kept costs nothing but
 * its ids; the SDK wiring (tracing.ts) turns these specs into OpenTelemetry spans. Pure: no I/O, no SDK.
 */

/** Where a frame that never went out was lost: the queue in front of a stage, or the encoder (replaced
 *  while it waited for a busy ffmpeg #2, or taken by one that died). */
export type DropPlace = DropPoint | 'encoder';

export type AttributeValue = string | number | boolean;

export interface SpanSpec {
  readonly name: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  /** Span events (the rule events the frame emitted), at a point in time. */
  readonly events?: readonly { name: string; atMs: number; attributes: Readonly<Record<string, AttributeValue>> }[];
}

/** One frame's spans: the root (its ids are FrameRecord.trace's) and its children, in time order. */
export interface FrameSpans {
  readonly trace: FrameTraceContext;
  readonly root: SpanSpec;
  readonly children: readonly SpanSpec[];
}

/** How a frame ended: out (its last RTP packet written, or handed to a pushing ffmpeg #2), or dropped. */
export type FrameEnd = { kind: 'out'; out: FrameOutput } | { kind: 'dropped'; origin: FrameOrigin; place: DropPlace; atMs: number };

/** Why a frame's trace is kept (the sie.kept attribute), in the order they are checked. */
export type KeepReason = 'dropped' | 'event' | 'slow' | 'sampled';

export interface KeepPolicy {
  /** A frame whose arrival → end took longer than this is kept (ms). */
  readonly latencyThresholdMs: number;
}

/** The stage spans' names: what each stage does to the frame. */
const STAGE_SPAN: Record<StageName, string> = { inference: 'inference', rules: 'tracking_and_rules', drawing: 'drawing' };
/** The wait in the queue in front of each drop point, as a span name. */
const WAIT_SPAN: Record<DropPlace, string> = {
  inference: 'decode_wait',
  rules: 'rules_wait',
  drawing: 'drawing_wait',
  output: 'output_wait',
  encoder: 'encoder_wait',
};

/** Head sampling, 1 in `every` frames by frame id (0: none; tail rules still keep frames). Frame ids count
 *  every decoded frame, so the sampled ones are evenly spread whatever is dropped later. */
export function headSampled(frameId: number, every: number): boolean {
  return every > 0 && frameId % every === 0;
}

const endOf = (s: StageTiming) => s.startedAtMs + s.serviceMs;

function endMsOf(end: FrameEnd): number {
  return end.kind === 'out' ? end.out.sentAtMs : end.atMs;
}

/** The tail decision, made once the frame has ended: undefined = not kept (no span is ever made). */
export function keepFrame(end: FrameEnd, policy: KeepPolicy): KeepReason | undefined {
  const f = end.kind === 'out' ? end.out : end.origin;
  if (!f.trace) return undefined;
  if (end.kind === 'dropped') return 'dropped';
  if (f.events.length > 0) return 'event';
  if (endMsOf(end) - f.arrivedAtMs > policy.latencyThresholdMs) return 'slow';
  return f.trace.sampled ? 'sampled' : undefined;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * The frame's spans. Root `frame`: arrival on our side of ffmpeg #1 → its access unit's RTP packets
 * written to the mount (or handed to ffmpeg #2 when it pushes, or the drop). Children, one after the other:
 * `decode_wait` (decoded, waiting for the detector), `inference`, `tracking_and_rules`, `drawing` (each its
 * service time; the waits between them, tiny unless a stage is behind, are their `sie.wait_ms`),
 * `output_wait` (drawn → taken by ffmpeg #2: the output queue, the output clock's half period, a busy
 * encoder), `encode` (ffmpeg #2 → its access unit back), `send` (the access unit's RTP packets to every
 * reader). A dropped frame's last child is its wait in the queue that dropped it, ended by the drop.
 */
export function buildFrameSpans(end: FrameEnd, o: { clientId: string; kept: KeepReason }): FrameSpans | undefined {
  const f = end.kind === 'out' ? end.out : end.origin;
  if (!f.trace) return undefined;
  const endMs = endMsOf(end);
  const children: SpanSpec[] = [];
  let readySince = f.arrivedAtMs;
  for (const s of f.stages) {
    const waitName = s.stage === 'inference' ? WAIT_SPAN.inference : undefined;
    if (waitName) children.push({ name: waitName, startMs: readySince, endMs: s.startedAtMs, attributes: {} });
    const eventsHere = s.stage === 'rules' && f.events.length > 0;
    children.push({
      name: STAGE_SPAN[s.stage],
      startMs: s.startedAtMs,
      endMs: endOf(s),
      attributes: {
        'sie.wait_ms': round3(s.waitMs),
        'sie.service_ms': round3(s.serviceMs),
        ...(s.stage === 'inference' ? { 'sie.detected': f.detected } : {}),
        ...(eventsHere ? { 'sie.events': f.events.length } : {}),
      },
      events: eventsHere
        ? f.events.map((e) => ({ name: 'rule_event', atMs: endOf(s), attributes: { 'sie.event_id': e.id, 'sie.rule_id': e.rule_id, 'sie.event_type': e.type } }))
        : undefined,
    });
    readySince = endOf(s);
  }
  const attributes: Record<string, AttributeValue> = {
    'sie.run_id': f.runId,
    'sie.client_id': o.clientId,
    'sie.frame_id': f.frameId,
    'sie.source_pts_s': f.ptsS,
    'sie.config_version': f.configVersion,
    'sie.detected': f.detected,
    'sie.kept': o.kept,
    'sie.latency_ms': round3(endMs - f.arrivedAtMs),
  };
  if (f.events.length > 0) attributes['sie.events'] = f.events.length;
  if (end.kind === 'out') {
    const out = end.out;
    attributes['sie.output_pts_s'] = out.outputPtsS;
    attributes['sie.pushed'] = out.pushed;
    children.push({ name: 'output_wait', startMs: readySince, endMs: out.handedAtMs, attributes: {} });
    if (!out.pushed) {
      children.push({ name: 'encode', startMs: out.handedAtMs, endMs: out.accessUnitAtMs, attributes: {} });
      children.push({ name: 'send', startMs: out.accessUnitAtMs, endMs: out.sentAtMs, attributes: {} });
    }
  } else {
    attributes['sie.dropped'] = true;
    attributes['sie.dropped_before'] = end.place;
    // A frame lost at the encoder went through the output queue: its wait there is output_wait, then the encoder's.
    children.push({ name: WAIT_SPAN[end.place], startMs: Math.min(readySince, end.atMs), endMs: end.atMs, attributes: { 'sie.dropped_before': end.place } });
  }
  return { trace: f.trace, root: { name: 'frame', startMs: f.arrivedAtMs, endMs, attributes }, children };
}
