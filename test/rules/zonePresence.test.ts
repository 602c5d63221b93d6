import { describe, expect, it } from 'vitest';
import { driveRule, walk, type ScriptFrame } from './helpers.js';

/** Zone: the square 0.2..0.6 × 0.2..0.6. */
const ZONE = [[0.2, 0.2], [0.6, 0.2], [0.6, 0.6], [0.2, 0.6]];
const RULE = { id: 'door', type: 'zone_presence', zone: ZONE } as const;

describe('zone_presence', () => {
  it.each([
    // x = 0.05, 0.15, …, 0.85 at y = 0.4: inside for x = 0.25 … 0.55.
    { what: 'walking through enters and leaves once', script: walk(1, [0.05, 0.4], [0.85, 0.4], 9), expected: ['2:enter:1', '6:leave:1'] },
    { what: 'staying outside is silent', script: walk(1, [0, 0.8], [0.8, 0.8], 9), expected: [] },
    {
      what: 'an object inside when its track expires leaves',
      script: [{ t: 0, objects: [{ track: 1, x: 0.4, y: 0.4 }] }, { t: 0.1, objects: [] }, { t: 1.2, objects: [], expired: [1] }],
      expected: ['0:enter:1', '2:leave:1'],
    },
    {
      what: 'a missed detection or a skipped frame does not make it leave',
      script: [
        { t: 0, objects: [{ track: 1, x: 0.4, y: 0.4 }] },
        { t: 0.1, objects: [] },
        { t: 0.2 },
        { t: 0.3, objects: [{ track: 1, x: 0.45, y: 0.4 }] },
      ],
      expected: ['0:enter:1'],
    },
    {
      what: 'expiry of a track outside is silent',
      script: [{ t: 0, objects: [{ track: 1, x: 0.9, y: 0.4 }] }, { t: 1.2, objects: [], expired: [1] }],
      expected: [],
    },
    {
      what: 'two objects are followed separately',
      script: [
        { t: 0, objects: [{ track: 1, x: 0.4, y: 0.4 }, { track: 2, x: 0.8, y: 0.4 }] },
        { t: 0.1, objects: [{ track: 1, x: 0.4, y: 0.4 }, { track: 2, x: 0.5, y: 0.4 }] },
        { t: 0.2, objects: [{ track: 1, x: 0.9, y: 0.4 }, { track: 2, x: 0.5, y: 0.4 }] },
      ],
      expected: ['0:enter:1', '1:enter:2', '2:leave:1'],
    },
    { what: 'untracked detections are ignored', script: walk(-1, [0, 0.4], [0.8, 0.4], 9), expected: [] },
    {
      what: 're-entering is a new visit',
      script: [0.4, 0.8, 0.4].map((x, k) => ({ t: k, objects: [{ track: 1, x, y: 0.4 }] })),
      expected: ['0:enter:1', '1:leave:1', '2:enter:1'],
    },
  ] satisfies Array<{ what: string; script: ScriptFrame[]; expected: string[] }>)('$what', ({ script, expected }) => {
    expect(driveRule(RULE, script).events).toEqual(expected);
  });

  it.each([
    { rule: { ...RULE, classes: ['dog'] }, expected: ['0:enter:3'] },
    { rule: { ...RULE, classes: ['person', 'dog'] }, expected: ['0:enter:1', '0:enter:3'] },
    { rule: { ...RULE, min_confidence: 0.5 }, expected: ['0:enter:1', '0:enter:2'] },
    { rule: { ...RULE, classes: ['unicorn'] }, expected: [] },
  ])('filters: $rule.classes $rule.min_confidence', ({ rule, expected }) => {
    const script = [{ t: 0, objects: [{ track: 1, x: 0.3, y: 0.4, cls: 0 }, { track: 2, x: 0.4, y: 0.4, cls: 1 }, { track: 3, x: 0.5, y: 0.4, cls: 2, conf: 0.3 }] }];
    expect(driveRule(rule, script).events).toEqual(expected);
  });

  it.each([
    // A 200 px tall box standing with its feet at y = 0.25: feet inside, centre (0.15) and head outside.
    { anchor: 'bottom_center', expected: ['0:enter:1'] },
    { anchor: 'center', expected: [] },
    { anchor: 'top_center', expected: [] },
    { anchor: 'bottom_left', expected: ['0:enter:1'] },
  ] as const)('anchor $anchor', ({ anchor, expected }) => {
    expect(driveRule({ ...RULE, anchor }, [{ t: 0, objects: [{ track: 1, x: 0.4, y: 0.25, h: 200 }] }]).events).toEqual(expected);
  });

  it('leave carries the visit length and reason; close ends open visits', () => {
    const { drafts, rule } = driveRule(RULE, [
      { t: 0, objects: [{ track: 1, x: 0.4, y: 0.4 }, { track: 2, x: 0.3, y: 0.3 }] },
      { t: 2.5, objects: [{ track: 1, x: 0.9, y: 0.4 }] },
    ]);
    expect(drafts[2]).toEqual({ type: 'leave', trackId: 1, classId: 0, box: [880, 320, 920, 400], extra: { seconds: 2.5, reason: 'left' } });
    expect(rule.counters()).toEqual({ type: 'zone_presence', occupancy: 1 });
    const closed: unknown[] = [];
    rule.close(3, 'stopped', (d) => closed.push(d));
    expect(closed).toEqual([{ type: 'leave', trackId: 2, classId: 0, box: [280, 220, 320, 300], extra: { seconds: 3, reason: 'stopped' } }]);
    expect(rule.stateSize()).toBe(0);
  });
});
