import { describe, expect, it } from 'vitest';
import { driveRule, walk, type ScriptFrame } from './helpers.js';

/** A horizontal segment across the middle, drawn left → right: its left side is up, so moving down is "in". */
const ACROSS = { id: 'gate', type: 'line_crossing', line: [[0.2, 0.5], [0.8, 0.5]] } as const;
/** A vertical segment drawn top → bottom: facing down the image, the left side is the right half (x > 0.5). */
const DOWN = { id: 'gate', type: 'line_crossing', line: [[0.5, 0.2], [0.5, 0.8]] } as const;

/** A sequence of y positions of one object at x = 0.5, 10 fps. */
function ys(track: number, values: number[], x = 0.5): ScriptFrame[] {
  return values.map((y, k) => ({ t: k / 10, objects: [{ track, x, y }] }));
}

describe('line_crossing', () => {
  it.each([
    { what: 'moving down through a left→right line is in', rule: ACROSS, script: walk(1, [0.5, 0.3], [0.5, 0.7], 5), expected: ['3:cross:1:in'] },
    { what: 'moving up through it is out', rule: ACROSS, script: walk(1, [0.5, 0.7], [0.5, 0.3], 5), expected: ['3:cross:1:out'] },
    {
      what: 'the same move through the line drawn right→left is out',
      rule: { ...ACROSS, line: [[0.8, 0.5], [0.2, 0.5]] },
      script: walk(1, [0.5, 0.3], [0.5, 0.7], 5),
      expected: ['3:cross:1:out'],
    },
    { what: 'right to left through a top→bottom line is in', rule: DOWN, script: walk(1, [0.7, 0.5], [0.3, 0.5], 5), expected: ['3:cross:1:in'] },
    { what: 'left to right through a top→bottom line is out', rule: DOWN, script: walk(1, [0.3, 0.5], [0.7, 0.5], 5), expected: ['3:cross:1:out'] },
    { what: 'one big step across still counts', rule: ACROSS, script: ys(1, [0.3, 0.7]), expected: ['1:cross:1:in'] },
    { what: 'there and back counts both ways', rule: ACROSS, script: ys(1, [0.3, 0.7, 0.3]), expected: ['1:cross:1:in', '2:cross:1:out'] },
    { what: 'crossing the extension does not count', rule: ACROSS, script: walk(1, [0.9, 0.3], [0.9, 0.7], 5), expected: [] },
    { what: 'crossing the extension on the other end does not count', rule: ACROSS, script: walk(1, [0.1, 0.7], [0.1, 0.3], 5), expected: [] },
    { what: 'a diagonal move that meets the segment counts', rule: ACROSS, script: walk(1, [0.15, 0.4], [0.35, 0.6], 2), expected: ['1:cross:1:in'] },
    { what: 'a diagonal move that meets only the extension does not', rule: ACROSS, script: walk(1, [0.05, 0.4], [0.15, 0.6], 2), expected: [] },
    {
      what: 'going around the end changes side without a count, coming back through counts',
      rule: ACROSS,
      script: [
        { t: 0, objects: [{ track: 1, x: 0.5, y: 0.3 }] },
        { t: 0.1, objects: [{ track: 1, x: 0.1, y: 0.3 }] },
        { t: 0.2, objects: [{ track: 1, x: 0.1, y: 0.7 }] },
        { t: 0.3, objects: [{ track: 1, x: 0.5, y: 0.7 }] },
        { t: 0.4, objects: [{ track: 1, x: 0.5, y: 0.3 }] },
      ],
      expected: ['4:cross:1:out'],
    },
    { what: 'jitter inside the band on the way across counts once', rule: ACROSS, script: ys(1, [0.3, 0.495, 0.505, 0.495, 0.505, 0.497, 0.7]), expected: ['6:cross:1:in'] },
    { what: 'jitter on the line that goes back counts nothing', rule: ACROSS, script: ys(1, [0.3, 0.495, 0.505, 0.495, 0.503, 0.3]), expected: [] },
    { what: 'an object first seen on the line gets a side without counting', rule: ACROSS, script: ys(1, [0.5, 0.502, 0.7, 0.3]), expected: ['3:cross:1:out'] },
    { what: 'with no band, touching the line exactly is no side', rule: { ...ACROSS, hysteresis: 0 }, script: ys(1, [0.3, 0.5, 0.3, 0.5, 0.7]), expected: ['4:cross:1:in'] },
    {
      what: 'a wider band ignores a 3% wobble',
      rule: { ...ACROSS, hysteresis: 0.05 },
      script: ys(1, [0.3, 0.47, 0.53, 0.47, 0.53, 0.47]),
      expected: [],
    },
    {
      what: 'untracked detections never count',
      rule: ACROSS,
      script: ys(-1, [0.3, 0.7, 0.3, 0.7]),
      expected: [],
    },
    {
      what: 'two objects crossing opposite ways',
      rule: ACROSS,
      script: [0.3, 0.4, 0.6, 0.7].map((y, k) => ({ t: k / 10, objects: [{ track: 1, x: 0.4, y }, { track: 2, x: 0.6, y: 1 - y }] })),
      expected: ['2:cross:1:in', '2:cross:2:out'],
    },
    {
      what: 'frames the detector skipped keep the side',
      rule: ACROSS,
      script: [{ t: 0, objects: [{ track: 1, x: 0.5, y: 0.3 }] }, { t: 0.1 }, { t: 0.2 }, { t: 0.3, objects: [{ track: 1, x: 0.5, y: 0.7 }] }],
      expected: ['3:cross:1:in'],
    },
    {
      what: 'an expired track forgets its side (its id is never reused anyway)',
      rule: ACROSS,
      script: [{ t: 0, objects: [{ track: 1, x: 0.5, y: 0.3 }] }, { t: 0.1, objects: [], expired: [1] }, { t: 0.2, objects: [{ track: 1, x: 0.5, y: 0.7 }] }],
      expected: [],
    },
  ])('$what', ({ rule, script, expected }) => {
    expect(driveRule(rule, script).events).toEqual(expected);
  });

  it.each([
    { what: 'classes keeps only the named classes', rule: { ...ACROSS, classes: ['car'] }, expected: ['1:cross:2:in'] },
    { what: 'min_confidence drops weak sightings', rule: { ...ACROSS, min_confidence: 0.5 }, expected: ['1:cross:1:in', '1:cross:2:in'] },
    { what: 'no filter sees all', rule: ACROSS, expected: ['1:cross:1:in', '1:cross:2:in', '1:cross:3:in'] },
  ])('$what', ({ rule, expected }) => {
    const script: ScriptFrame[] = [0.3, 0.7].map((y, k) => ({
      t: k / 10,
      objects: [
        { track: 1, x: 0.3, y, cls: 0, conf: 0.9 },
        { track: 2, x: 0.5, y, cls: 1, conf: 0.9 },
        { track: 3, x: 0.7, y, cls: 0, conf: 0.3 },
      ],
    }));
    expect(driveRule(rule, script).events).toEqual(expected);
  });

  it.each([
    // A tall box standing above the line: its bottom has crossed, its centre and top have not.
    { anchor: 'bottom_center', expected: ['1:cross:1:in'] },
    { anchor: 'center', expected: [] },
    { anchor: 'top_center', expected: [] },
  ] as const)('anchor $anchor decides which point must cross', ({ anchor, expected }) => {
    const script: ScriptFrame[] = [0.45, 0.56].map((y, k) => ({ t: k / 10, objects: [{ track: 1, x: 0.5, y, h: 200 }] }));
    expect(driveRule({ ...ACROSS, anchor }, script).events).toEqual(expected);
  });

  it('counts per class and direction, and names the running count', () => {
    const script: ScriptFrame[] = [0.3, 0.7, 0.3, 0.7].map((y, k) => ({
      t: k / 10,
      objects: [
        { track: 1, x: 0.3, y, cls: 0 },
        { track: 2, x: 0.6, y: 1 - y, cls: 1 },
      ],
    }));
    const { rule, drafts } = driveRule(ACROSS, script);
    expect(rule.counters()).toEqual({ type: 'line_crossing', counts: { person: { in: 2, out: 1 }, car: { in: 1, out: 2 } } });
    expect(drafts.map((d) => d.extra.count)).toEqual([1, 1, 1, 1, 2, 2]);
  });

  it('holds state only for tracks still alive', () => {
    const { rule } = driveRule(ACROSS, [
      { t: 0, objects: [{ track: 1, x: 0.5, y: 0.3 }, { track: 2, x: 0.5, y: 0.7 }] },
      { t: 0.1, objects: [], expired: [1] },
    ]);
    expect(rule.stateSize()).toBe(1);
  });

  it('the band is a fraction of the shorter side, in pixels', () => {
    // 1920×480 with hysteresis 0.05: the band is 24 px, i.e. 0.05 of the height (not of the width).
    const setup = { width: 1920, height: 480, labels: ['person'] };
    const rule = { ...ACROSS, hysteresis: 0.05 };
    expect(driveRule(rule, ys(1, [0.3, 0.54, 0.3, 0.56]), setup).events).toEqual(['3:cross:1:in']);
  });
});
