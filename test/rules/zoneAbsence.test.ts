import { describe, expect, it } from 'vitest';
import { driveRule, type ScriptFrame } from './helpers.js';

const ZONE = [[0.2, 0.2], [0.6, 0.2], [0.6, 0.6], [0.2, 0.6]];
const RULE = { id: 'desk', type: 'zone_absence', zone: ZONE, classes: ['person'], min_seconds: 2 } as const;

/** One frame per 0.5 s: 'p' = a person inside, 'c' = a car inside, '.' = nobody, '_' = skipped frame. */
function script(s: string): ScriptFrame[] {
  return [...s].map((ch, k) => {
    const t = k / 2;
    if (ch === '_') return { t };
    if (ch === '.') return { t, objects: [{ track: 1, x: 0.9, y: 0.4 }] };
    return { t, objects: [{ track: 1, x: 0.4, y: 0.4, cls: ch === 'p' ? 0 : 1 }] };
  });
}

describe('zone_absence', () => {
  it.each([
    { what: 'empty from the start: started after min_seconds', s: '.......', expected: ['4:started'] },
    { what: 'someone appears: ended at once', s: '......pp', expected: ['4:started', '6:ended'] },
    { what: 'after they leave the wait starts again', s: '.....p.....', expected: ['4:started', '5:ended', '10:started'] },
    { what: 'someone there from the start: nothing until they leave', s: 'pppp.....', expected: ['8:started'] },
    { what: 'other classes do not count as presence', s: '....cccc', expected: ['4:started'] },
    { what: 'skipped frames still advance time', s: '.___.', expected: ['4:started'] },
    { what: 'a short gap is silent', s: '...p...p', expected: [] },
  ])('$what', ({ s, expected }) => {
    expect(driveRule(RULE, script(s)).events).toEqual(expected);
  });

  it('reports how long it was empty and how long it lasted, and highlights who ended it', () => {
    const { drafts } = driveRule(RULE, script('.....p'));
    expect(drafts).toEqual([
      { type: 'started', trackId: null, classId: null, box: null, extra: { seconds: 2 } },
      { type: 'ended', trackId: null, classId: null, box: null, extra: { count: 1, seconds: 0.5, reason: 'changed' }, highlight: [1] },
    ]);
  });

  it('a person inside keeps the zone occupied until the track expires', () => {
    const s: ScriptFrame[] = [{ t: 0, objects: [{ track: 1, x: 0.4, y: 0.4 }] }, { t: 1, objects: [] }, { t: 2, objects: [], expired: [1] }, { t: 4, objects: [] }];
    expect(driveRule(RULE, s).events).toEqual(['3:started']);
  });

  it('close ends an active absence', () => {
    const { rule } = driveRule(RULE, script('.....'));
    expect(rule.counters()).toEqual({ type: 'zone_absence', occupancy: 0, active: true });
    const closed: string[] = [];
    rule.close(3, 'stopped', (d) => closed.push(`${d.type}:${String(d.extra.reason)}`));
    expect(closed).toEqual(['ended:stopped']);
  });
});
