import { describe, expect, it } from 'vitest';
import { LABELS, MODEL, runSie } from '../helpers/media.js';
import type { AccuracyResult } from '../../src/bench/accuracy.js';
import { formatAccuracy } from '../../src/bench/accuracy.js';

/**
 * Floors: the figures measured on 2026-12-02 (branch `accuracy`, tracker and rules of main 78fa36a) against
 * test/fixtures/truth/plaza.json, minus at most 0.02. A change that loses counts fails here; one that gains
 * them should raise the floor in the same commit. Replay is deterministic (time is the file's pts, nothing
 * dropped), so these do not depend on the machine's load.
 *   walkway: 26 of 28 crossings found (misses at 592, 750), no false alarm: recall 0.929, precision 1.000.
 *   parked: both vehicles, plus the van's second class (car and truck): recall 1.000, precision 0.667;
 *   with inference.class_groups {vehicle: [car, truck, bus]} (plaza-rules.json, same day): 1.000 / 1.000.
 */
const FLOORS: Record<string, { recall: number; precision: number }> = {
  walkway: { recall: 0.91, precision: 0.98 },
  parked: { recall: 0.98, precision: 0.98 },
};

/** `sie bench --accuracy --json` end to end (the compiled dist/): the real model, a real replay of the clip. */
describe('sie bench --accuracy', () => {
  it('scores the plaza clip against its truth, at or above the floors', async () => {
    const r = await runSie(['bench', '--accuracy', '--json', '--clips', 'plaza-pedestrians.mp4', '--model', MODEL, '--labels', LABELS], {}, 180_000);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const result = JSON.parse(r.stdout) as AccuracyResult;
    expect(result).toMatchObject({ type: 'accuracy', toleranceFrames: 10 });
    expect(result.clips).toHaveLength(1);
    const clip = result.clips[0]!;
    expect(clip).toMatchObject({ clip: 'plaza-pedestrians.mp4', config: 'plaza-rules.json', frames: 795 });
    expect(clip.rules.map((s) => s.rule).sort()).toEqual(Object.keys(FLOORS).sort());
    for (const s of clip.rules) {
      const floor = FLOORS[s.rule]!;
      expect(s.score.recall, `${s.rule} recall (missed at ${s.missedFrames.join(', ')})`).toBeGreaterThanOrEqual(floor.recall);
      expect(s.score.precision, `${s.rule} precision (false alarms at ${s.falseAlarmFrames.join(', ')})`).toBeGreaterThanOrEqual(floor.precision);
    }
    expect(clip.rules.find((s) => s.rule === 'walkway')!.score.truth).toBe(28);
    const text = formatAccuracy(result);
    expect(text).toMatch(/plaza-pedestrians\.mp4\s+walkway\s+line_crossing\s+28\s/);
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
