import { z } from 'zod';
import { polygonSelfIntersection, type SelfIntersection } from '../geometry.js';

/**
 * `rules` section: what to watch for in a stream. Geometry is in fractions of the frame (0..1, x right, y down)
 * so one config fits any resolution; the engine turns it into pixels once per run (as Frigate stores zones).
 * Every object is strict: a typo in a key is an error, never a silently ignored setting.
 */

const coordinate = z.number().min(0).max(1).describe('fraction of the frame: 0 = left/top edge, 1 = right/bottom edge');

export const pointSchema = z.tuple([coordinate, coordinate]).describe('[x, y] as fractions of the frame width and height (y down)');

/** Twice the signed area (shoelace); 0 means all points lie on one line. */
function doubleArea(points: ReadonlyArray<readonly [number, number]>): number {
  let s = 0;
  points.forEach(([x1, y1], i) => {
    const [x2, y2] = points[(i + 1) % points.length]!;
    s += x1 * y2 - x2 * y1;
  });
  return s;
}

/** Do all points lie on one line (within rounding of fractions of the frame)? */
function onOneLine(points: ReadonlyArray<readonly [number, number]>): boolean {
  const [x0, y0] = points[0]!;
  const far = points.find(([x, y]) => x !== x0 || y !== y0);
  if (!far) return true;
  return points.every(([x, y]) => Math.abs((far[0] - x0) * (y - y0) - (far[1] - y0) * (x - x0)) <= 1e-12);
}

/** Edges and points counted from 0, as in the config's array: edge i runs from point i to point i+1. */
function describeSelfIntersection(bad: SelfIntersection, n: number): string {
  if (bad.kind === 'repeated_point') return `point ${bad.second} repeats point ${bad.first} (a zone must be a simple polygon)`;
  const edge = (e: number) => `edge ${e} (point ${e} → point ${(e + 1) % n})`;
  return `the polygon crosses or touches itself: ${edge(bad.edgeA)} meets ${edge(bad.edgeB)} (a zone must be a simple polygon, its edges meeting only at shared corners)`;
}

export const polygonSchema = z
  .array(pointSchema)
  .min(3, 'a polygon needs at least 3 points')
  .max(100)
  .superRefine((p, ctx) => {
    // Points on one line fold back on themselves too; "no area" says more. A symmetric bow tie also has zero
    // signed area but is not on one line: "crosses itself" is its fault.
    const noArea = 'the polygon has no area (its points lie on one line)';
    if (onOneLine(p)) return void ctx.addIssue({ code: 'custom', message: noArea });
    const bad = polygonSelfIntersection(p);
    if (bad) ctx.addIssue({ code: 'custom', message: describeSelfIntersection(bad, p.length) });
    else if (Math.abs(doubleArea(p)) <= 1e-9) ctx.addIssue({ code: 'custom', message: noArea });
  })
  .describe('closed polygon [[x, y], ...], at least 3 points, in fractions of the frame; the last point joins the first');

export const lineSchema = z
  .tuple([pointSchema, pointSchema])
  .refine(([a, b]) => a[0] !== b[0] || a[1] !== b[1], 'the two points of a line must differ')
  .describe(
    'segment [[x1, y1], [x2, y2]] in fractions of the frame. Its drawing order sets the directions: looking from ' +
      'the first point to the second on the image (y down), "in" is a crossing from the left side to the right ' +
      'side and "out" the reverse. Example: a line drawn left to right across the image counts objects moving ' +
      'down as "in". Only the segment counts, not its extension.',
  );

export const anchorSchema = z
  .enum(['bottom_center', 'center', 'top_center', 'center_left', 'center_right', 'top_left', 'top_right', 'bottom_left', 'bottom_right'])
  .describe('point of the box that stands for the object (bottom_center = where a person or vehicle touches the ground)');

export type Anchor = z.infer<typeof anchorSchema>;

const seconds = (def: number, what: string) => z.number().min(0).max(86_400).default(def).describe(what);

/** Fields every rule has. */
const common = {
  id: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, "_", "-" and "." only')
    .describe('stable identifier, unique within the list; events and counters refer to it'),
  name: z.string().min(1).max(200).optional().describe('human-readable name, for display only'),
  classes: z
    .array(z.string().min(1).max(200))
    .max(1000)
    .default([])
    .describe("class names (the model's labels) the rule watches; empty = every class"),
  min_confidence: z.number().min(0).max(1).default(0).describe('detections scoring below this are not seen by this rule'),
  anchor: anchorSchema.default('bottom_center').describe("point of the box tested against zones and lines; default bottom_center"),
};

const zone = polygonSchema.describe('the zone, a polygon in fractions of the frame; an object is inside when its anchor is');

/**
 * Debounce, in seconds of source time like the tracker's settings (never frames: the number of frames the
 * detector sees in a second changes with the camera and every_nth_frame). "Held for s" means seen on detection
 * frames spanning s with nothing contrary seen between, so any value above 0 needs at least two detector frames
 * and one stray box never counts, at any frame rate. Defaults: a few detector frames at the usual 5–15 fps.
 */
const debounce = (def: number, what: string) => z.number().min(0).max(60).default(def).describe(what);

/** Entry and exit debounce of every zone rule (Frigate's zone inertia, in seconds). */
const zoneDebounce = {
  enter_after_s: debounce(
    0.3,
    'seconds of source time the anchor must stay inside before the object counts as in the zone (first and latest ' +
      'frame seen inside that far apart, never seen outside between); 0 = on the first frame inside. The visit ' +
      'still starts at the first frame inside: `enter` is dated there (frame_id, pts, time) and dwell seconds count ' +
      'from it; the event is emitted on the frame that confirms it. Default 0.3: a box that strays inside for a ' +
      'frame or two (a shadow, a box snapping across the edge) is no visit',
  ),
  leave_after_s: debounce(
    1,
    'seconds of source time the anchor must stay outside before the object has left (first and latest frame seen ' +
      'outside that far apart, never seen inside between); a track that expires leaves at once. 0 = on the first ' +
      'frame outside. `leave` is dated at the first frame seen outside (the last frame seen inside when the track ' +
      'expired) and its extra.seconds is the visit from enter to then. Default 1: like the tracker\'s ' +
      'lost_track_buffer_s, an object briefly seen outside is treated as one briefly unseen, so a flicker or a ' +
      'step back over the edge neither splits the visit nor restarts its dwell timer',
  ),
};

export const zonePresenceRuleSchema = z
  .object({ ...common, type: z.literal('zone_presence').describe('event "enter" when an object enters the zone, "leave" when it leaves or its track ends'), zone, ...zoneDebounce })
  .strict();

export const zoneDwellRuleSchema = z
  .object({
    ...common,
    type: z.literal('zone_dwell').describe('event "dwell" once per object and visit when it has stayed min_seconds in the zone'),
    zone,
    min_seconds: seconds(
      10,
      'seconds of source time an object must stay inside before the event, counted from the first frame inside; the event is dated on the frame it fires (at entry + min_seconds, or when the entry is confirmed if enter_after_s is longer)',
    ),
    ...zoneDebounce,
  })
  .strict();

export const lineCrossingRuleSchema = z
  .object({
    ...common,
    type: z.literal('line_crossing').describe('event "cross" with direction "in" or "out" each time a tracked object crosses the segment'),
    line: lineSchema,
    hysteresis: z
      .number()
      .min(0)
      .max(0.2)
      .default(0.01)
      .describe('distance beyond the line, as a fraction of the frame\'s shorter side, an anchor must reach on each side; jitter on the line does not count'),
    cross_after_s: debounce(
      0.3,
      'seconds of source time the anchor must stay on the new side (beyond the hysteresis band or within it, never back ' +
        'beyond it on the old side) before a crossing counts; a track that ends first (left the picture) counts. ' +
        '0 = count at once. The `cross` event is dated on the first frame past the line (frame_id, pts, time) and ' +
        'emitted on the frame that confirms it. Default 0.3: a box that jitters across the line and back, or a track ' +
        'that wobbles back across within a fraction of a second, counts nothing or once; a real turn-around takes ' +
        'longer and counts both ways',
    ),
  })
  .strict();

export const zoneOccupancyRuleSchema = z
  .object({
    ...common,
    type: z.literal('zone_occupancy').describe('event "started" when the count condition has held min_seconds, "ended" when it stops holding'),
    zone,
    min_count: z.number().int().min(1).max(10_000).optional().describe('condition: at least this many objects inside (give this or max_count)'),
    max_count: z.number().int().min(0).max(10_000).optional().describe('condition: at most this many objects inside (give this or min_count)'),
    min_seconds: seconds(
      0,
      'seconds of source time the condition must hold before "started", counted from the entry or exit that made it hold (dated as zone_presence dates them); "started" and "ended" are dated on the frame that emits them, and objects count once their entry is confirmed (enter_after_s) until their exit is (leave_after_s)',
    ),
    ...zoneDebounce,
  })
  .strict()
  .superRefine((r, ctx) => {
    if ((r.min_count === undefined) === (r.max_count === undefined)) {
      const both = r.min_count !== undefined;
      ctx.addIssue({
        code: 'custom',
        path: [both ? 'max_count' : 'min_count'],
        message: both ? 'give min_count or max_count, not both' : 'give min_count or max_count',
      });
    }
  });

export const zoneAbsenceRuleSchema = z
  .object({
    ...common,
    type: z.literal('zone_absence').describe('event "started" when no watched object has been in the zone for min_seconds, "ended" when one appears'),
    zone,
    min_seconds: seconds(
      30,
      'seconds of source time the zone must stay empty before "started", counted from the exit of the last object (dated as zone_presence dates it); "started" and "ended" are dated on the frame that emits them, and "ended" comes when an entry is confirmed (enter_after_s)',
    ),
    ...zoneDebounce,
  })
  .strict();

export const ruleSchema = z.discriminatedUnion('type', [
  zonePresenceRuleSchema,
  zoneDwellRuleSchema,
  lineCrossingRuleSchema,
  zoneOccupancyRuleSchema,
  zoneAbsenceRuleSchema,
]);

export type RuleConfig = z.infer<typeof ruleSchema>;
export type RuleType = RuleConfig['type'];

export const rulesConfigSchema = z
  .array(ruleSchema)
  .max(100)
  .superRefine((rules, ctx) => {
    const seen = new Set<string>();
    rules.forEach((r, i) => {
      if (seen.has(r.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate rule id "${r.id}"` });
      seen.add(r.id);
    });
  })
  .default([])
  .describe('rules evaluated on every frame, in this order');

export type RulesConfig = z.infer<typeof rulesConfigSchema>;
