import { ruleSchema } from '../../src/config/rules.js';
import { createRule } from '../../src/rules/engine.js';
import type { EventDraft } from '../../src/rules/events.js';
import type { RuleRuntime, RuleSetup } from '../../src/rules/types.js';
import { mockDetections, type MockBox } from '../tracking/mockDetections.js';

export const LABELS = ['person', 'car', 'dog'];
export const W = 1000;
export const H = 1000;
export const SETUP: RuleSetup = { width: W, height: H, labels: LABELS };

/** An object whose BOTTOM CENTRE is at (x, y), fractions of the frame; a 40×80 px box by default. */
export interface ScriptObject {
  track: number;
  x: number;
  y: number;
  cls?: number;
  conf?: number;
  w?: number;
  h?: number;
}

/** One frame of a script: time, objects seen (absent = the detector skipped the frame), tracks that expired. */
export interface ScriptFrame {
  t: number;
  objects?: ScriptObject[];
  expired?: number[];
}

export function objectBox(o: ScriptObject, setup: RuleSetup = SETUP): MockBox {
  const w = o.w ?? 40;
  const h = o.h ?? 80;
  const bx = o.x * setup.width;
  const by = o.y * setup.height;
  return { box: [bx - w / 2, by - h, bx + w / 2, by], track: o.track, cls: o.cls ?? 0, conf: o.conf ?? 0.9 };
}

/**
 * "frame:type[:track][:direction][@emitted]", e.g. "3:enter:1", "5:cross:2:in", "7:started": the frame the
 * event is dated on, and after "@" the frame that emitted it when that is later (a debounced change).
 */
export function compact(frame: number, d: EventDraft): string {
  const at = d.at?.frameId ?? frame;
  const s = [at, d.type, d.trackId ?? undefined, d.direction].filter((p) => p !== undefined).join(':');
  return at === frame ? s : `${s}@${frame}`;
}

/** Runs one rule on a script and returns its events compacted, plus the runtime and the raw drafts. */
/** `config` is parsed here (defaults filled, errors thrown), so tables can hold plain literals. */
export function driveRule(config: unknown, frames: readonly ScriptFrame[], setup: RuleSetup = SETUP) {
  const rule: RuleRuntime = createRule(ruleSchema.parse(config), setup);
  const events: string[] = [];
  const drafts: EventDraft[] = [];
  frames.forEach((f, k) => {
    const detections = f.objects ? mockDetections(f.objects.map((o) => objectBox(o, setup))) : undefined;
    rule.step({ frameId: k, ptsS: f.t, detections, expired: f.expired ?? [] }, (d) => {
      events.push(compact(k, d));
      drafts.push(d);
    });
  });
  return { events, drafts, rule };
}

/** A straight walk of one object from (x0, y0) to (x1, y1) over `frames` frames at `fps`, starting at t0. */
export function walk(track: number, from: [number, number], to: [number, number], frames: number, opts: { fps?: number; t0?: number; cls?: number; conf?: number } = {}): ScriptFrame[] {
  const fps = opts.fps ?? 10;
  return Array.from({ length: frames }, (_, k) => {
    const a = frames === 1 ? 1 : k / (frames - 1);
    const obj: ScriptObject = { track, x: from[0] + a * (to[0] - from[0]), y: from[1] + a * (to[1] - from[1]) };
    if (opts.cls !== undefined) obj.cls = opts.cls;
    if (opts.conf !== undefined) obj.conf = opts.conf;
    return { t: (opts.t0 ?? 0) + k / fps, objects: [obj] };
  });
}

/** Frames at `fps` from t0, each with the objects given by `at(k)` (positions as [x, y] per track). */
export function frames(n: number, at: (k: number) => ScriptObject[] | undefined, opts: { fps?: number; t0?: number } = {}): ScriptFrame[] {
  const fps = opts.fps ?? 10;
  return Array.from({ length: n }, (_, k) => {
    const objects = at(k);
    return objects ? { t: (opts.t0 ?? 0) + k / fps, objects } : { t: (opts.t0 ?? 0) + k / fps };
  });
}
