import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { driveRule, walk, type ScriptFrame } from './helpers.js';

/**
 * A horizontal segment across the middle, drawn left → right: its left side is up, so moving down is "in".
 * Without the time debounce (cross_after_s 0): these tests are about geometry, the band and filters; the
 * debounce has its own below, with the defaults.
 */
const ACROSS = { id: 'gate', type: 'line_crossing', line: [[0.2, 0.5], [0.8, 0.5]], cross_after_s: 0 } as const;
/** A vertical segment drawn top → bottom: facing down the image, the left side is the right half (x > 0.5). */
const DOWN = { id: 'gate', type: 'line_crossing', line: [[0.5, 0.2], [0.5, 0.8]], cross_after_s: 0 } as const;

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

describe('line_crossing debounce (defaults: hysteresis 0.01, cross_after_s 0.3)', () => {
  const GATE = { id: 'gate', type: 'line_crossing', line: [[0.2, 0.5], [0.8, 0.5]] } as const;
  /** Jitter of ±2% (twice the band) around the line: a side on every frame, the other side on the next. */
  const standingOnLine = (n: number) => Array.from({ length: n }, (_, k) => (k % 2 === 0 ? 0.48 : 0.52));

  it.each([
    { what: 'a walk across counts once, dated on the first frame past the line, emitted when the side held', y: [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7], expected: ['5:cross:1:in@8'] },
    { what: 'standing on the line with jitter wider than the band counts nothing', y: [0.3, ...standingOnLine(40), 0.3, 0.3, 0.3, 0.3], expected: [] },
    { what: 'standing on the line, then walking on, counts once', y: [0.3, ...standingOnLine(40), 0.6, 0.65, 0.7, 0.75], expected: ['40:cross:1:in@43'] },
    { what: 'runs of up to 3 frames on either side count nothing', y: [0.3, 0.52, 0.53, 0.52, 0.47, 0.48, 0.51, 0.52, 0.53, 0.47, 0.3, 0.3, 0.3, 0.3, 0.3], expected: [] },
    { what: 'across, back within 0.1 s and across again counts once, at the crossing that held', y: [0.3, 0.4, 0.55, 0.45, 0.55, 0.6, 0.65, 0.7, 0.7], expected: ['4:cross:1:in@7'] },
    { what: 'a step across and back within 0.2 s counts nothing', y: [0.3, 0.4, 0.55, 0.56, 0.45, 0.4, 0.3, 0.3, 0.3, 0.3], expected: [] },
    { what: 'a real out-and-back (in, 2 s on the other side, back) counts both', y: [0.3, 0.4, 0.55, ...Array<number>(20).fill(0.7), 0.45, 0.4, 0.35, 0.3], expected: ['2:cross:1:in@5', '23:cross:1:out@26'] },
    { what: 'sightings in the band after crossing let the side hold', y: [0.3, 0.52, 0.505, 0.505, 0.505, 0.505], expected: ['1:cross:1:in@4'] },
  ])('$what', ({ y, expected }) => {
    expect(driveRule(GATE, ys(1, y)).events).toEqual(expected);
  });

  it('a track that ends while its crossing waits counts: it walked out of the picture across the line', () => {
    const script: ScriptFrame[] = [...ys(1, [0.3, 0.4, 0.55]), { t: 0.3, objects: [] }, { t: 1.4, objects: [], expired: [1] }];
    const { events, rule } = driveRule(GATE, script);
    expect(events).toEqual(['2:cross:1:in@4']);
    expect(rule.stateSize()).toBe(0);
  });

  it('close counts a crossing still waiting, dated where it crossed; a wobble back before it is nothing', () => {
    const { rule } = driveRule(GATE, [...ys(1, [0.3, 0.55]), { t: 0.2, objects: [{ track: 2, x: 0.4, y: 0.3 }] }]);
    const closed: unknown[] = [];
    rule.close(0.3, 'stopped', (d) => closed.push([d.type, d.trackId, d.direction, d.at, d.extra]));
    expect(closed).toEqual([['cross', 1, 'in', { frameId: 1, ptsS: 0.1 }, { count: 1 }]]);
    expect(rule.counters()).toEqual({ type: 'line_crossing', counts: { person: { in: 1, out: 0 } } });
  });

  it('the event carries the box of the frame it is dated on', () => {
    const { drafts } = driveRule(GATE, ys(1, [0.3, 0.55, 0.6, 0.65, 0.7]));
    expect(drafts).toEqual([{ type: 'cross', trackId: 1, classId: 0, direction: 'in', box: [480, 470, 520, 550], extra: { count: 1 }, at: { frameId: 1, ptsS: 0.1 } }]);
  });

  it('seconds, not frames: detection on every 3rd frame at 30 fps, and 2 detections a second', () => {
    // 30 fps, every 3rd frame detected: past the line on frame 6, held on frame 15 (0.3 s later).
    const nth3: ScriptFrame[] = [0.3, 0.4, 0.55, 0.6, 0.65, 0.7].flatMap((y, k) => [{ t: k / 10, objects: [{ track: 1, x: 0.5, y }] }, { t: k / 10 + 1 / 30 }, { t: k / 10 + 2 / 30 }]);
    expect(driveRule(GATE, nth3).events).toEqual(['6:cross:1:in@15']);
    // 2 fps: one detection across then back is jitter; two in a row (0.5 s) count.
    const slow = (y: number[]) => y.map((v, k) => ({ t: k / 2, objects: [{ track: 1, x: 0.5, y: v }] }));
    expect(driveRule(GATE, slow([0.3, 0.55, 0.45, 0.3])).events).toEqual([]);
    expect(driveRule(GATE, slow([0.3, 0.55, 0.6])).events).toEqual(['1:cross:1:in@2']);
  });

  it('cross_after_s 0 counts on the frame past the line (jitter beyond the band counts)', () => {
    expect(driveRule({ ...GATE, cross_after_s: 0 }, ys(1, [0.3, 0.52, 0.48, 0.52])).events).toEqual(['1:cross:1:in', '2:cross:1:out', '3:cross:1:in']);
  });

  it('property: any jitter across the line between two firm walks counts the net crossing once', () => {
    // Runs of 1–3 frames (under 0.3 s) alternating sides, at 1.1–5 % of the frame from the line.
    const run = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 11, max: 50 }));
    fc.assert(
      fc.property(fc.array(run, { maxLength: 30 }), fc.boolean(), fc.boolean(), (runs, startAbove, endBelow) => {
        const jitter = runs.flatMap(([n, off], i) => Array<number>(n).fill(0.5 + ((i % 2 === 0) === startAbove ? -1 : 1) * (off / 1000)));
        const y = [0.3, 0.3, 0.3, ...jitter, ...Array<number>(6).fill(endBelow ? 0.7 : 0.3)];
        const { events } = driveRule(GATE, ys(1, y));
        expect(events.map((e) => e.split('@')[0]!.split(':').slice(1).join(':'))).toEqual(endBelow ? ['cross:1:in'] : []);
      }),
      { numRuns: 300 },
    );
  });

  it('property: counts never exceed the runs on one side that lasted cross_after_s, and alternate in and out', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(0.3, 0.45, 0.495, 0.505, 0.55, 0.7), { minLength: 1, maxLength: 120 }), (y) => {
        const { drafts } = driveRule(GATE, ys(1, y));
        // Firm sides (beyond the 0.01 band); a run lasts from its first firm frame to the next firm frame on the
        // other side (band frames between still count as on it); the first run is where the object starts.
        const firm = y.map((v, k) => [k, v < 0.49 ? -1 : v > 0.51 ? 1 : 0] as const).filter(([, s]) => s !== 0);
        let held = 0;
        firm.forEach(([k, s], i) => {
          if (i === 0 || firm[i - 1]![1] === s) return;
          const next = firm.slice(i).find(([, s2]) => s2 !== s);
          const lastSeen = next ? next[0] - 1 : y.length - 1;
          if ((lastSeen - k) / 10 >= 0.3 - 1e-9) held++;
        });
        expect(drafts.length).toBeLessThanOrEqual(held);
        expect(drafts.map((d) => d.direction)).toEqual(drafts.map((_, i) => ((i % 2 === 0) === (drafts[0]?.direction === 'in') ? 'in' : 'out')));
      }),
      { numRuns: 300 },
    );
  });
});
