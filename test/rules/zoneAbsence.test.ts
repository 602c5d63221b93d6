import { describe, expect, it } from 'vitest';
import { driveRule, type ScriptFrame } from './helpers.js';

const ZONE = [[0.2, 0.2], [0.6, 0.2], [0.6, 0.6], [0.2, 0.6]];
/** No debounce here: the debounce has its own tests, with the defaults. */
const RULE = { id: 'desk', type: 'zone_absence', zone: ZONE, classes: ['person'], min_seconds: 2, enter_after_s: 0, leave_after_s: 0 } as const;

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

  it('a person inside keeps the zone occupied until the track expires; the wait counts from the last sighting', () => {
    // Seen inside at 0, not seen after, the track dropped at 1.5: empty since 0, so started at 2 (not 3.5).
    const s: ScriptFrame[] = [{ t: 0, objects: [{ track: 1, x: 0.4, y: 0.4 }] }, { t: 1, objects: [] }, { t: 1.5, objects: [], expired: [1] }, { t: 2, objects: [] }, { t: 4, objects: [] }];
    const { events, drafts } = driveRule(RULE, s);
    expect(events).toEqual(['3:started']);
    expect(drafts[0]!.extra).toEqual({ seconds: 2 });
    const stillTracked = s.map((f) => ({ ...f, expired: [] }));
    expect(driveRule(RULE, stillTracked).events).toEqual([]);
  });

  it('close ends an active absence', () => {
    const { rule } = driveRule(RULE, script('.....'));
    expect(rule.counters()).toEqual({ type: 'zone_absence', occupancy: 0, active: true });
    const closed: string[] = [];
    rule.close(3, 'stopped', (d) => closed.push(`${d.type}:${String(d.extra.reason)}`));
    expect(closed).toEqual(['ended:stopped']);
  });
});

describe('zone_absence debounce (defaults: enter_after_s 0.3, leave_after_s 1)', () => {
  const DEBOUNCED = { id: 'desk', type: 'zone_absence', zone: ZONE, classes: ['person'], min_seconds: 2 } as const;
  /** 10 fps, one character per frame: 'p' person inside, '.' outside. */
  const tenFps = (s: string): ScriptFrame[] => [...s].map((ch, k) => ({ t: k / 10, objects: [{ track: 1, x: ch === 'p' ? 0.4 : 0.9, y: 0.4 }] }));

  it('a stray box inside for a frame does not end the absence', () => {
    expect(driveRule(DEBOUNCED, tenFps(`${'.'.repeat(25)}p${'.'.repeat(10)}`)).events).toEqual(['20:started']);
  });

  it('a person inside for 0.3 s ends it, when the entry is confirmed', () => {
    expect(driveRule(DEBOUNCED, tenFps(`${'.'.repeat(25)}pppp...`)).events).toEqual(['20:started', '28:ended']);
  });

  it('the wait counts from the first frame outside of the last one to leave', () => {
    // Inside on frames 0-9, outside from 10 (the leave confirmed on 20): empty 2 s on frame 30.
    const { events, drafts } = driveRule(DEBOUNCED, tenFps(`${'p'.repeat(10)}${'.'.repeat(30)}`));
    expect(events).toEqual(['30:started']);
    expect(drafts[0]!.extra).toEqual({ seconds: 2 });
  });

  it('a person flickering out for a frame keeps the zone occupied', () => {
    expect(driveRule({ ...DEBOUNCED, min_seconds: 1 }, tenFps(`pppppp.pppp.ppp${'p'.repeat(20)}`)).events).toEqual([]);
  });

  it.each([
    // A 200 px tall person with the feet inside (y 0.25) and the centre above the zone (y 0.15).
    { anchor: 'bottom_center', expected: [] },
    { anchor: 'center', expected: ['10:started'] },
  ] as const)('anchor $anchor', ({ anchor, expected }) => {
    const script = Array.from({ length: 20 }, (_, k) => ({ t: k / 10, objects: [{ track: 1, x: 0.4, y: 0.25, h: 200 }] }));
    expect(driveRule({ ...DEBOUNCED, min_seconds: 1, anchor }, script).events).toEqual(expected);
  });
});
