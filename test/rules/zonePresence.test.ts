import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { driveRule, walk, type ScriptFrame } from './helpers.js';

/** Zone: the square 0.2..0.6 × 0.2..0.6. */
const ZONE = [[0.2, 0.2], [0.6, 0.2], [0.6, 0.6], [0.2, 0.6]];
/** No debounce: these tests are about geometry, filters and reasons; the debounce has its own, with the defaults. */
const RULE = { id: 'door', type: 'zone_presence', zone: ZONE, enter_after_s: 0, leave_after_s: 0 } as const;

describe('zone_presence', () => {
  it.each([
    // x = 0.05, 0.15, …, 0.85 at y = 0.4: inside for x = 0.25 … 0.55.
    { what: 'walking through enters and leaves once', script: walk(1, [0.05, 0.4], [0.85, 0.4], 9), expected: ['2:enter:1', '6:leave:1'] },
    { what: 'staying outside is silent', script: walk(1, [0, 0.8], [0.8, 0.8], 9), expected: [] },
    {
      // Dated at its last sighting inside (frame 0), not when the tracker gave up on it (frame 2).
      what: 'an object inside when its track expires leaves, dated when it was last seen',
      script: [{ t: 0, objects: [{ track: 1, x: 0.4, y: 0.4 }] }, { t: 0.1, objects: [] }, { t: 1.2, objects: [], expired: [1] }],
      expected: ['0:enter:1', '0:leave:1@2'],
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
    expect(drafts[2]).toEqual({ type: 'leave', trackId: 1, classId: 0, box: [880, 320, 920, 400], extra: { seconds: 2.5, reason: 'left' }, at: { frameId: 1, ptsS: 2.5 } });
    expect(rule.counters()).toEqual({ type: 'zone_presence', occupancy: 1 });
    const closed: unknown[] = [];
    rule.close(3, 'stopped', (d) => closed.push(d));
    expect(closed).toEqual([{ type: 'leave', trackId: 2, classId: 0, box: [280, 220, 320, 300], extra: { seconds: 3, reason: 'stopped' } }]);
    expect(rule.stateSize()).toBe(0);
  });
});

/** The rule with its default debounce: enter_after_s 0.3, leave_after_s 1. */
const DEBOUNCED = { id: 'door', type: 'zone_presence', zone: ZONE } as const;
const IN = { track: 1, x: 0.4, y: 0.4 };
const OUT = { track: 1, x: 0.9, y: 0.4 };

/** One object, one character per frame at `fps`: 'i' inside, 'o' outside, '_' detector skipped the frame,
 *  '-' detected frame the object is missed on, 'x' missed and its track expires. */
function sightings(s: string, fps = 10): ScriptFrame[] {
  return [...s].map((ch, k) => {
    const t = k / fps;
    if (ch === '_') return { t };
    if (ch === '-') return { t, objects: [] };
    if (ch === 'x') return { t, objects: [], expired: [1] };
    return { t, objects: [ch === 'i' ? IN : OUT] };
  });
}

describe('zone_presence debounce', () => {
  it.each([
    { what: 'a stray frame inside is no visit', s: 'oooooioooooo', expected: [] },
    { what: 'two frames inside (0.1 s) are not enough', s: 'ooooiioooooo', expected: [] },
    { what: 'the entry is dated on the first frame inside and emitted once it held 0.3 s', s: 'ooiiiiii', expected: ['2:enter:1@5'] },
    { what: 'a frame outside before the 0.3 s restarts the wait', s: 'iiioiiii', expected: ['4:enter:1@7'] },
    { what: 'frames the object is not seen on neither count nor break the wait', s: 'oi--_iii', expected: ['1:enter:1@5'] },
    { what: 'one frame outside does not split the visit', s: 'iiiiiiioiiiiiii', expected: ['0:enter:1@3'] },
    { what: '0.9 s outside does not split it either', s: 'iiiiiiooooooooooiiii', expected: ['0:enter:1@3'] },
    { what: 'the leave is dated on the first frame outside and emitted once it held 1 s', s: 'iiiiiioooooooooooo', expected: ['0:enter:1@3', '6:leave:1@16'] },
    { what: 'a track that expires while its leave waits left when it was first seen outside', s: 'iiiiioo-x', expected: ['0:enter:1@3', '5:leave:1@8'] },
    { what: 'a track that expires while its entry waits never entered', s: 'oii--x', expected: [] },
    { what: 'leaving for longer than 1 s and coming back is a new visit', s: 'iiiiooooooooooooiiii', expected: ['0:enter:1@3', '4:leave:1@14', '16:enter:1@19'] },
  ])('$what', ({ s, expected }) => {
    expect(driveRule(DEBOUNCED, sightings(s)).events).toEqual(expected);
  });

  it('a leave carries the visit from its first frame inside to its first frame outside', () => {
    const { drafts } = driveRule(DEBOUNCED, sightings('ooiiiiiiiiiiiioooooooooooo'));
    expect(drafts.map((d) => [d.type, d.at, d.extra])).toEqual([
      ['enter', { frameId: 2, ptsS: 0.2 }, {}],
      ['leave', { frameId: 14, ptsS: 1.4 }, { seconds: 1.2, reason: 'left' }],
    ]);
    // The boxes are those of the frames the events are dated on.
    expect(drafts.map((d) => d.box)).toEqual([
      [380, 320, 420, 400],
      [880, 320, 920, 400],
    ]);
  });

  it('seconds, not frames: the same 0.3 s at 30 fps with detection on every 3rd frame, and at 2 detections a second', () => {
    // 30 fps, every 3rd frame detected: the entry holds on frame 9 (0.3 s after frame 0).
    const nth3 = sightings('i__i__i__i__i', 30);
    expect(driveRule(DEBOUNCED, nth3).events).toEqual(['0:enter:1@9']);
    // 2 detections a second: one stray box inside is still no visit, two in a row (0.5 s apart) are one.
    expect(driveRule(DEBOUNCED, sightings('oioo', 2)).events).toEqual([]);
    expect(driveRule(DEBOUNCED, sightings('oiio', 2)).events).toEqual(['1:enter:1@2']);
  });

  it('0 and 0 give no debounce: in and out on the first frame', () => {
    expect(driveRule({ ...DEBOUNCED, enter_after_s: 0, leave_after_s: 0 }, sightings('oioiio')).events).toEqual(['1:enter:1', '2:leave:1', '3:enter:1', '5:leave:1']);
  });

  it('close: a leave waiting for its confirmation is a leave when first seen outside; a waiting entry is nothing', () => {
    const { rule } = driveRule(DEBOUNCED, [
      ...sightings('iiiiio'),
      { t: 0.6, objects: [{ track: 2, x: 0.3, y: 0.3 }] },
    ]);
    expect(rule.stateSize()).toBe(2);
    const closed: unknown[] = [];
    rule.close(0.7, 'stopped', (d) => closed.push([d.type, d.trackId, d.at, d.extra]));
    expect(closed).toEqual([['leave', 1, { frameId: 5, ptsS: 0.5 }, { seconds: 0.5, reason: 'left' }]]);
    expect(rule.stateSize()).toBe(0);
  });

  it('property: random sightings never make more visits than there were stays of 0.3 s inside, and the events pair up', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('i', 'o', '_', '-'), { maxLength: 150 }), (chars) => {
        const s = chars.join('');
        const { drafts } = driveRule(DEBOUNCED, sightings(s));
        // Stays: runs of 'i' between two 'o' (missed and skipped frames do not end them), first to last 'i'.
        const stays = s
          .split('o')
          .map((run) => [run.indexOf('i'), run.lastIndexOf('i')] as const)
          .filter(([a, b]) => a >= 0 && (b - a) / 10 >= 0.3 - 1e-9).length;
        const enters = drafts.filter((d) => d.type === 'enter');
        expect(enters.length).toBeLessThanOrEqual(stays);
        // enter, leave, enter, … each dated no later than it was emitted, and dates in order.
        expect(drafts.map((d) => d.type)).toEqual(drafts.map((_, k) => (k % 2 === 0 ? 'enter' : 'leave')));
        const dates = drafts.map((d) => d.at!.frameId);
        expect(dates).toEqual([...dates].sort((a, b) => a - b));
      }),
      { numRuns: 300 },
    );
  });

  it('property: a long stay with flickers outside of one frame each is one visit', () => {
    // Each step: some frames inside (at least one), maybe then one frame outside; the object's detection may be
    // missed on any frame. The stay opens with 0.3 s inside.
    const step = fc.tuple(fc.array(fc.constantFrom('i', 'i', 'i', '-', '_'), { minLength: 0, maxLength: 8 }), fc.boolean());
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const body = steps.map(([ins, flicker]) => `i${ins.join('')}${flicker ? 'o' : ''}`).join('');
        const { events } = driveRule(DEBOUNCED, sightings(`iiii${body}i`));
        expect(events).toEqual(['0:enter:1@3']);
      }),
      { numRuns: 300 },
    );
  });
});
