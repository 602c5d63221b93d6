/**
 * The truth files of test/fixtures/truth (schema in the README there) and the scoring of one replayed clip
 * against one: pure, so the lining up of rules, truth and events is tested without a model.
 */
import { z } from 'zod';
import type { RuleConfig } from '../config/rules.js';
import type { RuleEvent } from '../rules/index.js';
import { ConfigInvalidError } from '../errors.js';
import { scoreCrossings, scoreMoments, scoreVisits, type Score, type ScoreOptions, type Visit } from './score.js';

const frame = z.number().int().min(0);

const crossingSchema = z.strictObject({
  frame,
  direction: z.enum(['in', 'out']),
  note: z.string().optional(),
  ambiguous: z.boolean().optional(),
  evidence: z.string().optional(),
});

const visitSchema = z
  .strictObject({ enter: frame, leave: frame, object: z.string().optional(), note: z.string().optional(), evidence: z.string().optional() })
  .refine((v) => v.leave >= v.enter, { message: 'leave must not be before enter' });

const notCountedSchema = z.strictObject({ frames: z.array(frame), note: z.string(), evidence: z.string().optional() });

const ruleTruthSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('line_crossing'), crossings: z.array(crossingSchema), not_counted: z.array(notCountedSchema).optional() }),
  z.strictObject({ type: z.literal('zone_dwell'), visits: z.array(visitSchema), not_counted: z.array(notCountedSchema).optional() }),
  z.strictObject({ type: z.literal('zone_presence'), visits: z.array(visitSchema), not_counted: z.array(notCountedSchema).optional() }),
]);

export const truthSchema = z.strictObject({
  clip: z.string().min(1),
  config: z.string().min(1),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  fps: z.number().positive(),
  frames: z.number().int().positive(),
  made: z.string().optional(),
  rules: z.record(z.string(), ruleTruthSchema),
});
export type Truth = z.infer<typeof truthSchema>;
export type RuleTruth = Truth['rules'][string];

export interface RuleScore {
  rule: string;
  type: RuleTruth['type'];
  score: Score;
  /** Frames of the truth events nobody found and of the engine events matching no truth, for looking. */
  missedFrames: number[];
  falseAlarmFrames: number[];
}

/**
 * A zone_dwell fires once per visit, `min_seconds` after the entry: the truth's visits long enough become
 * the moments a dwell is expected at.
 */
function expectedDwells(visits: readonly Visit[], minSeconds: number, fps: number): number[] {
  const after = Math.ceil(minSeconds * fps);
  return visits.filter((v) => v.leave - v.enter >= after).map((v) => v.enter + after);
}

/** Engine visits of a zone_presence rule: each track's `enter` with its next `leave`. */
function engineVisits(events: readonly RuleEvent[]): Visit[] {
  const open = new Map<number, number>();
  const out: Visit[] = [];
  for (const e of events) {
    const track = e.track_id ?? -1;
    if (e.type === 'enter') open.set(track, e.frame_id);
    else if (e.type === 'leave' && open.has(track)) {
      out.push({ enter: open.get(track)!, leave: e.frame_id });
      open.delete(track);
    }
  }
  return out;
}

/**
 * Scores every rule the truth covers. A truth rule missing from the config, or of another type there, is
 * an error (the truth would score nothing); config rules without truth are left out.
 */
export function scoreClip(truth: Truth, rules: readonly RuleConfig[], events: readonly RuleEvent[], o: ScoreOptions = {}): RuleScore[] {
  const out: RuleScore[] = [];
  for (const [id, t] of Object.entries(truth.rules)) {
    const rule = rules.find((r) => r.id === id);
    if (!rule) throw new ConfigInvalidError(`truth for ${truth.clip}: rule '${id}' is not in ${truth.config}`);
    if (rule.type !== t.type) throw new ConfigInvalidError(`truth for ${truth.clip}: rule '${id}' is ${rule.type} in ${truth.config}, ${t.type} in the truth`);
    const mine = events.filter((e) => e.rule_id === id);
    let score: Score;
    let truthFrames: number[];
    let engineFrames: number[];
    if (t.type === 'line_crossing') {
      const crosses = mine.filter((e) => e.type === 'cross' && e.direction).map((e) => ({ frame: e.frame_id, direction: e.direction! }));
      score = scoreCrossings(t.crossings, crosses, o);
      truthFrames = t.crossings.map((c) => c.frame);
      engineFrames = crosses.map((c) => c.frame);
    } else if (t.type === 'zone_dwell' && rule.type === 'zone_dwell') {
      const expected = expectedDwells(t.visits, rule.min_seconds, truth.fps);
      const dwells = mine.filter((e) => e.type === 'dwell').map((e) => e.frame_id);
      score = scoreMoments(expected, dwells, o);
      truthFrames = expected;
      engineFrames = dwells;
    } else {
      const visits = engineVisits(mine);
      score = scoreVisits(t.visits, visits, o);
      truthFrames = t.visits.map((v) => v.enter);
      engineFrames = visits.map((v) => v.enter);
    }
    out.push({
      rule: id,
      type: t.type,
      score,
      missedFrames: score.missedIndices.map((i) => truthFrames[i]!),
      falseAlarmFrames: score.falseAlarmIndices.map((j) => engineFrames[j]!),
    });
  }
  return out;
}
