import { describe, expect, it } from 'vitest';
import { driveRule, type ScriptFrame } from './helpers.js';

const ZONE = [[0.2, 0.2], [0.6, 0.2], [0.6, 0.6], [0.2, 0.6]];
const RULE = { id: 'queue', type: 'zone_dwell', zone: ZONE, min_seconds: 2 } as const;
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
