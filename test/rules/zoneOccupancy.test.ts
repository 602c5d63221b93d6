import { describe, expect, it } from 'vitest';
import { driveRule, type ScriptFrame } from './helpers.js';

const ZONE = [[0.2, 0.2], [0.6, 0.2], [0.6, 0.6], [0.2, 0.6]];
/** No debounce here: the debounce has its own tests, with the defaults. */
const RULE = { id: 'crowd', type: 'zone_occupancy', zone: ZONE, enter_after_s: 0, leave_after_s: 0 } as const;

/** One frame per second; `counts[k]` objects inside (tracks 1..n) and the rest of tracks 1..4 outside. */
function counts(values: number[]): ScriptFrame[] {
  return values.map((n, k) => ({
    t: k,
    objects: [1, 2, 3, 4].map((track) => ({ track, x: track <= n ? 0.4 : 0.9, y: 0.2 + 0.08 * track })),
  }));
}

describe('zone_occupancy', () => {
  it.each([
    { what: 'min_count: starts at once with min_seconds 0', rule: { ...RULE, min_count: 2 }, values: [0, 1, 2, 3, 1, 0], expected: ['2:started', '4:ended'] },
    { what: 'min_count with min_seconds waits', rule: { ...RULE, min_count: 2, min_seconds: 2 }, values: [2, 2, 2, 2, 1], expected: ['2:started', '4:ended'] },
    { what: 'a condition broken before min_seconds restarts the wait', rule: { ...RULE, min_count: 2, min_seconds: 2 }, values: [2, 2, 1, 2, 2, 2], expected: ['5:started'] },
    { what: 'max_count holds from the empty start', rule: { ...RULE, max_count: 1, min_seconds: 1 }, values: [0, 0, 1, 2, 2, 1, 1], expected: ['1:started', '3:ended', '6:started'] },
    { what: 'max_count 0 is "empty"', rule: { ...RULE, max_count: 0 }, values: [1, 0, 0, 1], expected: ['1:started', '3:ended'] },
    { what: 'never reaching min_count is silent', rule: { ...RULE, min_count: 4 }, values: [0, 1, 2, 3, 2], expected: [] },
  ])('$what', ({ rule, values, expected }) => {
    expect(driveRule(rule, counts(values)).events).toEqual(expected);
  });

  it('reports count, limit and seconds, and highlights the objects inside', () => {
    const { drafts } = driveRule({ ...RULE, min_count: 2, min_seconds: 1 }, counts([2, 2, 3, 0]));
    expect(drafts).toEqual([
      { type: 'started', trackId: null, classId: null, box: null, extra: { count: 2, min_count: 2, seconds: 1 }, highlight: [1, 2] },
      { type: 'ended', trackId: null, classId: null, box: null, extra: { count: 0, min_count: 2, seconds: 2, reason: 'changed' } },
    ]);
  });

  it('objects count while their track lives; expiry ends the condition', () => {
    const script: ScriptFrame[] = [
      { t: 0, objects: [{ track: 1, x: 0.4, y: 0.4 }, { track: 2, x: 0.3, y: 0.3 }] },
      { t: 0.5, objects: [{ track: 1, x: 0.4, y: 0.4 }] },
      { t: 1 },
      { t: 1.7, objects: [{ track: 1, x: 0.4, y: 0.4 }], expired: [2] },
    ];
    expect(driveRule({ ...RULE, min_count: 2 }, script).events).toEqual(['0:started', '3:ended']);
  });

  it('close ends an active condition; counters show it', () => {
    const { rule } = driveRule({ ...RULE, min_count: 1 }, counts([1, 1]));
    expect(rule.counters()).toEqual({ type: 'zone_occupancy', occupancy: 1, active: true });
    const closed: unknown[] = [];
    rule.close(4, 'reconfigured', (d) => closed.push(d));
    expect(closed).toEqual([{ type: 'ended', trackId: null, classId: null, box: null, extra: { count: 1, min_count: 1, seconds: 4, reason: 'reconfigured' } }]);
    expect(rule.counters()).toEqual({ type: 'zone_occupancy', occupancy: 0, active: false });
  });
});

describe('zone_occupancy debounce (defaults: enter_after_s 0.3, leave_after_s 1)', () => {
  const DEBOUNCED = { id: 'crowd', type: 'zone_occupancy', zone: ZONE } as const;
  /** 10 fps; per frame, the tracks inside (the others of 1..3 are outside). */
  const inside = (rows: number[][]): ScriptFrame[] =>
    rows.map((ids, k) => ({ t: k / 10, objects: [1, 2, 3].map((track) => ({ track, x: ids.includes(track) ? 0.4 : 0.9, y: 0.2 + 0.1 * track })) }));
  const repeat = (n: number, ids: number[]) => Array.from({ length: n }, () => ids);

  it('a stray box inside for a frame does not reach min_count', () => {
    expect(driveRule({ ...DEBOUNCED, min_count: 2 }, inside([...repeat(10, [1]), [1, 2], ...repeat(10, [1])])).events).toEqual([]);
  });

  it('a frame outside does not end the condition', () => {
    const rows = [...repeat(10, [1, 2]), [1], ...repeat(10, [1, 2])];
    expect(driveRule({ ...DEBOUNCED, min_count: 2 }, inside(rows)).events).toEqual(['3:started']);
  });

  it('min_seconds counts from the entry that made the condition hold, not from its confirmation', () => {
    // Both inside from frame 0; confirmed on 3; 1 s after frame 0 is frame 10.
    const { events, drafts } = driveRule({ ...DEBOUNCED, min_count: 2, min_seconds: 1 }, inside(repeat(15, [1, 2])));
    expect(events).toEqual(['10:started']);
    expect(drafts[0]!.extra).toEqual({ count: 2, min_count: 2, seconds: 1 });
  });

  it('max_count: the wait counts from the first frame outside of the object that left', () => {
    // Track 2 leaves on frame 10 (confirmed on 20): at most 1 inside since frame 10, started 1.5 s later.
    const rows = [...repeat(10, [1, 2]), ...repeat(30, [1])];
    const { events, drafts } = driveRule({ ...DEBOUNCED, max_count: 1, min_seconds: 1.5 }, inside(rows));
    expect(events).toEqual(['25:started']);
    expect(drafts[0]!.extra).toEqual({ count: 1, max_count: 1, seconds: 1.5 });
  });

  it('an entry or exit confirmed late starts the wait from when it happened, never from before the last end', () => {
    // Ends on 13 (track 3's entry confirmed, dated 10); track 3 out from 14, confirmed on 24 dated 14.
    const rows = [...repeat(10, [1]), ...repeat(4, [1, 3]), ...repeat(20, [1])];
    const { events, drafts } = driveRule({ ...DEBOUNCED, max_count: 1, min_seconds: 0.5 }, inside(rows));
    expect(events).toEqual(['5:started', '13:ended', '24:started']);
    expect(drafts[2]!.extra).toEqual({ count: 1, max_count: 1, seconds: 1 });
    // Track 2 out from 20, confirmed on 30: ended on 30. Track 3 in from 29, confirmed on 32: the condition
    // holds again since 29, but it was reported ended on 30, so the new wait counts from 30.
    const swap = [...repeat(20, [1, 2]), ...repeat(9, [1]), ...repeat(10, [1, 3])];
    const { events: e2, drafts: d2 } = driveRule({ ...DEBOUNCED, min_count: 2, min_seconds: 0.25 }, inside(swap));
    expect(e2).toEqual(['3:started', '30:ended', '33:started']);
    expect(d2[2]!.extra).toEqual({ count: 2, min_count: 2, seconds: 0.3 });
  });

  it.each([
    // 200 px tall boxes standing with their feet inside (y 0.25), centres above the zone (y 0.15).
    { anchor: 'bottom_center', expected: ['3:started'] },
    { anchor: 'center', expected: [] },
  ] as const)('anchor $anchor', ({ anchor, expected }) => {
    const script = Array.from({ length: 10 }, (_, k) => ({ t: k / 10, objects: [{ track: 1, x: 0.3, y: 0.25, h: 200 }, { track: 2, x: 0.5, y: 0.25, h: 200 }] }));
    expect(driveRule({ ...DEBOUNCED, min_count: 2, anchor }, script).events).toEqual(expected);
  });
});
