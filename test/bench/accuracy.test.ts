import { describe, expect, it } from 'vitest';
import { LABELS, MODEL, runSie } from '../helpers/media.js';
import type { AccuracyResult, ClipAccuracy } from '../../src/bench/accuracy.js';
import { formatAccuracy } from '../../src/bench/accuracy.js';

type Floors = Record<string, { recall: number; precision: number }>;

/**
 * Floors: the figures measured on 2026-12-02 against the truth files of test/fixtures/truth, minus at most
 * 0.02. A change that loses counts fails here; one that gains them should raise the floor in the same
 * commit. Replay is deterministic (time is the file's pts, nothing dropped), so these do not depend on the
 * machine's load.
 *
 * plaza.json (branch `accuracy`, tracker and rules of main 78fa36a):
 *   walkway: 26 of 28 crossings found (misses at 592, 750), no false alarm: recall 0.929, precision 1.000.
 *   parked: both vehicles, plus the van's second class (car and truck): recall 1.000, precision 0.667;
 *   with inference.class_groups {vehicle: [car, truck, bus]} (plaza-rules.json, same day): 1.000 / 1.000.
 *   walkway with weak boxes extending tracks (ByteTrack's second pass fed by the detector down to 0.1) and
 *   the weak pass matching by distance too: 27 of 28 (the ID switch at 750 gone; 592 is the ambiguous
 *   crossing at the segment's end, the box bottom passes 2 px below it): 0.964 / 1.000.
 */
const PLAZA_FLOORS: Floors = {
  walkway: { recall: 0.94, precision: 0.98 },
  parked: { recall: 0.98, precision: 0.98 },
};

/**
 * one-by-one.json (branch `truth-oneby`, tracker and rules of main c221e4a):
 *   exit: all 6 crossings (out) found within 1 frame, no false alarm: recall 1.000, precision 1.000.
 *   table: all 6 visits found, plus 4 one-to-three-frame visits split off by the box's bottom edge flickering
 *   across the zone's lower edge (enters at 518 and 1252 one frame early, leave-and-enter at 684/685 and
 *   687/688 while the woman steps off): recall 1.000, precision 0.600 (6 of 10).
 *   With the rules' debounce (branch `debounce`: enter_after_s 0.3, leave_after_s 1 by default, same day):
 *   table 6 of 6, none split off: 1.000 / 1.000; exit unchanged, 1.000 / 1.000.
 */
const ONE_BY_ONE_FLOORS: Floors = {
  exit: { recall: 0.98, precision: 0.98 },
  table: { recall: 0.98, precision: 0.98 },
};

/** `sie bench --accuracy --json --clips CLIP` end to end (the compiled dist/): the real model, a real replay. */
async function benchClip(clip: string): Promise<{ result: AccuracyResult; scored: ClipAccuracy }> {
  const r = await runSie(['bench', '--accuracy', '--json', '--clips', clip, '--model', MODEL, '--labels', LABELS], {}, 180_000);
  expect(r.code, r.stderr.slice(-3000)).toBe(0);
  const result = JSON.parse(r.stdout) as AccuracyResult;
  expect(result).toMatchObject({ type: 'accuracy', toleranceFrames: 10 });
  expect(result.clips).toHaveLength(1);
  return { result, scored: result.clips[0]! };
}

function expectFloors(clip: ClipAccuracy, floors: Floors): void {
  expect(clip.rules.map((s) => s.rule).sort()).toEqual(Object.keys(floors).sort());
  for (const s of clip.rules) {
    const floor = floors[s.rule]!;
    expect(s.score.recall, `${s.rule} recall (missed at ${s.missedFrames.join(', ')})`).toBeGreaterThanOrEqual(floor.recall);
    expect(s.score.precision, `${s.rule} precision (false alarms at ${s.falseAlarmFrames.join(', ')})`).toBeGreaterThanOrEqual(floor.precision);
  }
}

describe('sie bench --accuracy', () => {
  it('scores the plaza clip against its truth, at or above the floors', async () => {
    const { result, scored: clip } = await benchClip('plaza-pedestrians.mp4');
    expect(clip).toMatchObject({ clip: 'plaza-pedestrians.mp4', config: 'plaza-rules.json', frames: 795 });
    expectFloors(clip, PLAZA_FLOORS);
    expect(clip.rules.find((s) => s.rule === 'walkway')!.score.truth).toBe(28);
    const text = formatAccuracy(result);
    expect(text).toMatch(/plaza-pedestrians\.mp4\s+walkway\s+line_crossing\s+28\s/);
  }, 200_000);

  it('scores the one-by-one clip against its truth, at or above the floors', async () => {
    const { result, scored: clip } = await benchClip('one-by-one-person-detection.mp4');
    expect(clip).toMatchObject({ clip: 'one-by-one-person-detection.mp4', config: 'one-by-one-rules.json', frames: 1394 });
    expectFloors(clip, ONE_BY_ONE_FLOORS);
    const byRule = new Map(clip.rules.map((s) => [s.rule, s]));
    expect(byRule.get('exit')!.score.truth).toBe(6);
    expect(byRule.get('table')!).toMatchObject({ type: 'zone_presence', score: { truth: 6 } });
    const text = formatAccuracy(result);
    expect(text).toMatch(/one-by-one-person-detection\.mp4\s+exit\s+line_crossing\s+6\s/);
    expect(text).toMatch(/one-by-one-person-detection\.mp4\s+table\s+zone_presence\s+6\s/);
  }, 200_000);

  it('takes only its own options, strictly', async () => {
    const r = await runSie(['bench', '--accuracy', '--window', '5s']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--window: not an option of sie bench --accuracy/);
    const t = await runSie(['bench', '--accuracy', '--tolerance', '-3']);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/--tolerance/);
    const c = await runSie(['bench', '--accuracy', '--clips', 'nope.mp4', '--model', MODEL, '--labels', LABELS]);
    expect(c.code).not.toBe(0);
    expect(c.stderr).toMatch(/no truth .* for nope\.mp4/);
  });
});
