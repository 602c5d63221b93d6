import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configBodySchema } from '../../src/config/body.js';
import { describeZodError } from '../../src/config/zodError.js';
import { inferenceConfigSchema } from '../../src/config/inference.js';
import { ruleSchema, rulesConfigSchema } from '../../src/config/rules.js';

const square = [
  [0.1, 0.1],
  [0.5, 0.1],
  [0.5, 0.5],
  [0.1, 0.5],
];

/** The readable error of a rules list, as the API and CLI print it (empty when valid). */
function rulesError(rules: unknown): string {
  const r = rulesConfigSchema.safeParse(rules);
  return r.success ? '' : describeZodError(r.error);
}

describe('rules config', () => {
  it('defaults to an empty list, also inside the config body', () => {
    expect(rulesConfigSchema.parse(undefined)).toEqual([]);
    expect(configBodySchema.parse({}).rules).toEqual([]);
  });

  it.each([
    {
      rule: { id: 'door', type: 'zone_presence', zone: square },
      expected: { id: 'door', type: 'zone_presence', zone: square, classes: [], min_confidence: 0, anchor: 'bottom_center', enter_after_s: 0.3, leave_after_s: 1 },
    },
    {
      rule: { id: 'queue', type: 'zone_dwell', zone: square, classes: ['person'], anchor: 'center' },
      expected: { id: 'queue', type: 'zone_dwell', zone: square, classes: ['person'], min_confidence: 0, anchor: 'center', min_seconds: 10, enter_after_s: 0.3, leave_after_s: 1 },
    },
    {
      rule: { id: 'gate', type: 'line_crossing', line: [[0, 0.5], [1, 0.5]], name: 'Gate', min_confidence: 0.5 },
      expected: { id: 'gate', type: 'line_crossing', line: [[0, 0.5], [1, 0.5]], name: 'Gate', classes: [], min_confidence: 0.5, anchor: 'bottom_center', hysteresis: 0.01, cross_after_s: 0.3 },
    },
    {
      rule: { id: 'crowd', type: 'zone_occupancy', zone: square, min_count: 3 },
      expected: { id: 'crowd', type: 'zone_occupancy', zone: square, min_count: 3, classes: [], min_confidence: 0, anchor: 'bottom_center', min_seconds: 0, enter_after_s: 0.3, leave_after_s: 1 },
    },
    {
      rule: { id: 'empty', type: 'zone_occupancy', zone: square, max_count: 0, min_seconds: 5 },
      expected: { id: 'empty', type: 'zone_occupancy', zone: square, max_count: 0, classes: [], min_confidence: 0, anchor: 'bottom_center', min_seconds: 5, enter_after_s: 0.3, leave_after_s: 1 },
    },
    {
      rule: { id: 'desk', type: 'zone_absence', zone: square },
      expected: { id: 'desk', type: 'zone_absence', zone: square, classes: [], min_confidence: 0, anchor: 'bottom_center', min_seconds: 30, enter_after_s: 0.3, leave_after_s: 1 },
    },
  ])('accepts $rule.type and fills defaults', ({ rule, expected }) => {
    expect(ruleSchema.parse(rule)).toEqual(expected);
  });

  it.each([
    {
      what: 'duplicate ids',
      rules: [
        { id: 'a', type: 'zone_presence', zone: square },
        { id: 'a', type: 'zone_absence', zone: square },
      ],
      error: '1.id: duplicate rule id "a"',
    },
    { what: 'a polygon with 2 points', rules: [{ id: 'a', type: 'zone_presence', zone: [[0, 0], [1, 1]] }], error: '0.zone: a polygon needs at least 3 points' },
    { what: 'a polygon without area', rules: [{ id: 'a', type: 'zone_presence', zone: [[0, 0], [0.5, 0.5], [1, 1]] }], error: '0.zone: the polygon has no area' },
    { what: 'x outside 0..1', rules: [{ id: 'a', type: 'zone_presence', zone: [[0, 0], [1.5, 0], [1, 1]] }], error: '0.zone.1.0: Too big' },
    { what: 'y below 0', rules: [{ id: 'a', type: 'line_crossing', line: [[0, -0.1], [1, 1]] }], error: '0.line.0.1: Too small' },
    { what: 'both min_count and max_count', rules: [{ id: 'a', type: 'zone_occupancy', zone: square, min_count: 1, max_count: 3 }], error: '0.max_count: give min_count or max_count, not both' },
    { what: 'neither min_count nor max_count', rules: [{ id: 'a', type: 'zone_occupancy', zone: square }], error: '0.min_count: give min_count or max_count' },
    { what: 'a line of one point twice', rules: [{ id: 'a', type: 'line_crossing', line: [[0.5, 0.5], [0.5, 0.5]] }], error: '0.line: the two points of a line must differ' },
    { what: 'an unknown type', rules: [{ id: 'a', type: 'zone_magic', zone: square }], error: '0.type: Invalid' },
    { what: 'an unknown key', rules: [{ id: 'a', type: 'zone_presence', zone: square, colour: 'red' }], error: '0: Unrecognized key: "colour"' },
    { what: 'a key of another type', rules: [{ id: 'a', type: 'zone_presence', zone: square, min_seconds: 3 }], error: '0: Unrecognized key: "min_seconds"' },
    { what: 'a bad anchor', rules: [{ id: 'a', type: 'zone_presence', zone: square, anchor: 'feet' }], error: '0.anchor: Invalid option' },
    { what: 'an id with a colon', rules: [{ id: 'a:b', type: 'zone_presence', zone: square }], error: '0.id: use letters, digits' },
    { what: 'an empty id', rules: [{ id: '', type: 'zone_presence', zone: square }], error: '0.id: Too small' },
    { what: 'min_confidence over 1', rules: [{ id: 'a', type: 'zone_presence', zone: square, min_confidence: 2 }], error: '0.min_confidence: Too big' },
    { what: 'negative min_seconds', rules: [{ id: 'a', type: 'zone_dwell', zone: square, min_seconds: -1 }], error: '0.min_seconds: Too small' },
    { what: 'a fractional min_count', rules: [{ id: 'a', type: 'zone_occupancy', zone: square, min_count: 1.5 }], error: '0.min_count: Invalid input: expected int' },
    { what: 'hysteresis over 0.2', rules: [{ id: 'a', type: 'line_crossing', line: [[0, 0], [1, 1]], hysteresis: 0.5 }], error: '0.hysteresis: Too big' },
    { what: 'a negative enter_after_s', rules: [{ id: 'a', type: 'zone_presence', zone: square, enter_after_s: -0.1 }], error: '0.enter_after_s: Too small' },
    { what: 'leave_after_s over a minute', rules: [{ id: 'a', type: 'zone_dwell', zone: square, leave_after_s: 61 }], error: '0.leave_after_s: Too big' },
    { what: 'a cross_after_s that is not a number', rules: [{ id: 'a', type: 'line_crossing', line: [[0, 0], [1, 1]], cross_after_s: '0.3' }], error: '0.cross_after_s: Invalid input: expected number' },
    { what: 'a zone debounce on a line', rules: [{ id: 'a', type: 'line_crossing', line: [[0, 0], [1, 1]], enter_after_s: 1 }], error: '0: Unrecognized key: "enter_after_s"' },
    { what: 'a frame count instead of seconds', rules: [{ id: 'a', type: 'zone_presence', zone: square, inertia: 3 }], error: '0: Unrecognized key: "inertia"' },
  ])('rejects $what, naming the field', ({ rules, error }) => {
    expect(rulesError(rules)).toContain(error);
  });

  it('every field of every rule type has a description', () => {
    const undocumented: string[] = [];
    for (const option of ruleSchema.options) {
      const shape = (option as unknown as z.ZodObject).shape as Record<string, z.ZodType>;
      for (const [key, field] of Object.entries(shape)) if (!field.description) undocumented.push(`${key}`);
    }
    expect(undocumented).toEqual([]);
  });
});

describe('inference filters', () => {
  it('default to keeping everything', () => {
    const c = inferenceConfigSchema.parse({});
    expect(c.min_area).toBe(0);
    expect(c.ignore_zones).toEqual([]);
  });

  it.each([
    { input: { min_area: 1.5 }, error: 'min_area: Too big' },
    { input: { min_area: -0.1 }, error: 'min_area: Too small' },
    { input: { ignore_zones: [[[0, 0], [1, 1]]] }, error: 'ignore_zones.0: a polygon needs at least 3 points' },
    { input: { ignore_zones: [[[0, 0], [1, 0], [1, 2]]] }, error: 'ignore_zones.0.2.1: Too big' },
  ])('rejects $input', ({ input, error }) => {
    const r = inferenceConfigSchema.safeParse(input);
    expect(r.success).toBe(false);
    if (!r.success) expect(describeZodError(r.error)).toContain(error);
  });

  it('accepts polygons', () => {
    expect(inferenceConfigSchema.parse({ min_area: 0.001, ignore_zones: [square] }).ignore_zones).toEqual([square]);
  });
});
