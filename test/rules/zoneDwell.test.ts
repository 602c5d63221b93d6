import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { driveRule, type ScriptFrame } from './helpers.js';

const ZONE = [[0.2, 0.2], [0.6, 0.2], [0.6, 0.6], [0.2, 0.6]];
/** No debounce here: the debounce has its own tests, with the defaults. */
const RULE = { id: 'queue', type: 'zone_dwell', zone: ZONE, min_seconds: 2, enter_after_s: 0, leave_after_s: 0 } as const;
const IN = { track: 1, x: 0.4, y: 0.4 };
const OUT = { track: 1, x: 0.9, y: 0.4 };

/** One frame every 0.5 s; `inside[k]` true/false/undefined (= frame skipped by the detector). */
function timeline(inside: Array<boolean | undefined>): ScriptFrame[] {
  return inside.map((v, k) => (v === undefined ? { t: k / 2 } : { t: k / 2, objects: [v ? IN : OUT] }));
}

describe('zone_dwell', () => {
  it.each([
    { what: 'fires once when the stay reaches min_seconds', inside: [true, true, true, true, true, true, true], expected: ['4:dwell:1'] },
    { what: 'a stay shorter than min_seconds is silent', inside: [true, true, true, false, true, true, true], expected: [] },
    { what: 'each visit can fire once', inside: [true, true, true, true, true, false, true, true, true, true, true], expected: ['4:dwell:1', '10:dwell:1'] },
    { what: 'fires on a frame the detector skipped', inside: [true, true, true, undefined, undefined, undefined], expected: ['4:dwell:1'] },
    { what: 'starts counting at entry, not at first sight', inside: [false, false, true, true, true, true, true], expected: ['6:dwell:1'] },
  ])('$what', ({ inside, expected }) => {
    expect(driveRule(RULE, timeline(inside)).events).toEqual(expected);
  });

  it('reports the seconds stayed and highlights by track', () => {
    const { drafts } = driveRule({ ...RULE, min_seconds: 1.2 }, timeline([true, true, true, true]));
    expect(drafts).toEqual([{ type: 'dwell', trackId: 1, classId: 0, box: [380, 320, 420, 400], extra: { seconds: 1.5 } }]);
  });

  it('min_seconds 0 fires on entry', () => {
    expect(driveRule({ ...RULE, min_seconds: 0 }, timeline([false, true, true])).events).toEqual(['1:dwell:1']);
  });

  it('an expired track ends its visit and its state', () => {
    const { events, rule } = driveRule(RULE, [{ t: 0, objects: [IN] }, { t: 1.5, objects: [], expired: [1] }, { t: 5, objects: [] }]);
    expect(events).toEqual([]);
    expect(rule.stateSize()).toBe(0);
  });

  it('only watched classes dwell', () => {
    const script = [0, 1, 2, 3].map((t) => ({ t, objects: [{ track: 1, x: 0.4, y: 0.4, cls: 1 }, { track: 2, x: 0.3, y: 0.3, cls: 0 }] }));
    expect(driveRule({ ...RULE, classes: ['car'] }, script).events).toEqual(['2:dwell:1']);
  });
});

describe('zone_dwell debounce (defaults: enter_after_s 0.3, leave_after_s 1)', () => {
  const DEBOUNCED = { id: 'queue', type: 'zone_dwell', zone: ZONE, min_seconds: 15 } as const;
  /** 10 fps; `outside(k)` true on the frames the anchor is outside. */
  const stay = (n: number, outside: (k: number) => boolean): ScriptFrame[] =>
    Array.from({ length: n }, (_, k) => ({ t: k / 10, objects: [outside(k) ? OUT : IN] }));

  it('inside 20 s with one frame outside at 10 s: one visit, one dwell at 15 s', () => {
    const { events, drafts } = driveRule(DEBOUNCED, stay(200, (k) => k === 100));
    expect(events).toEqual(['150:dwell:1']);
    expect(drafts[0]!.extra).toEqual({ seconds: 15 });
  });

  it('a dwell counts from the first frame inside, not from the confirmed entry', () => {
    const { events, drafts } = driveRule({ ...DEBOUNCED, min_seconds: 2 }, stay(40, (k) => k < 5));
    expect(events).toEqual(['25:dwell:1']);
    expect(drafts[0]!.extra).toEqual({ seconds: 2 });
  });

  it('a min_seconds shorter than enter_after_s fires when the entry is confirmed', () => {
    const { events, drafts } = driveRule({ ...DEBOUNCED, min_seconds: 0 }, stay(10, () => false));
    expect(events).toEqual(['3:dwell:1']);
    expect(drafts[0]!.extra).toEqual({ seconds: 0.3 });
  });

  it('leaving for longer than leave_after_s is a new visit with its own timer', () => {
    // In 0-4.9 s, out 5-6.9 s, in from 7 s: the second visit dwells at 7 + 2 s.
    const { events } = driveRule({ ...DEBOUNCED, min_seconds: 2 }, stay(100, (k) => k >= 50 && k < 70));
    expect(events).toEqual(['20:dwell:1', '90:dwell:1']);
  });

  it('property: any flickers of one frame outside during a 20 s stay give one dwell, at 15 s', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 4, max: 198 }), { maxLength: 40 }), (flickers) => {
        // One frame each, never two in a row (a frame inside between): a flicker, not a step out.
        const out = new Set(flickers.filter((k) => !flickers.includes(k - 1)));
        expect(driveRule(DEBOUNCED, stay(200, (k) => out.has(k))).events).toEqual(['150:dwell:1']);
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    // A 200 px tall box with its feet inside the zone (y 0.25) and its centre above it (y 0.15).
    { anchor: 'bottom_center', expected: ['20:dwell:1'] },
    { anchor: 'center', expected: [] },
  ] as const)('anchor $anchor', ({ anchor, expected }) => {
    const script = Array.from({ length: 30 }, (_, k) => ({ t: k / 10, objects: [{ track: 1, x: 0.4, y: 0.25, h: 200 }] }));
    expect(driveRule({ ...DEBOUNCED, min_seconds: 2, anchor }, script).events).toEqual(expected);
  });
});
