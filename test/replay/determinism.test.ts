import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LABELS, MODEL, PLAZA, SIE } from '../helpers/media.js';
import { runToEnd } from '../helpers/processes.js';
import type { RuleEvent } from '../../src/rules/events.js';

/**
 * `sie replay` is the way to test a config before deploying it, so the same clip and config must give the
 * same events every time: same ids, types, tracks, frames, pts, times, boxes and extras, in the same order. Two
 * processes, one after the other, on the first 12 s of the plaza clip with the plaza rules.
 */
describe('sie replay is deterministic', () => {
  it('two replays of the same clip and config give identical event lists', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sie-replay-det-'));
    const clip = join(dir, 'clip.mp4');
    expect((await runToEnd('ffmpeg', ['-v', 'error', '-i', PLAZA, '-t', '12', '-c', 'copy', clip])).code).toBe(0);
    const fixture = JSON.parse(readFileSync('test/fixtures/plaza-rules.json', 'utf8')) as { rules: object[] };
    // A zone occupancy rule too, so more than one rule type (and its extras) is compared.
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        ...fixture,
        rules: [...fixture.rules, { id: 'lawn', type: 'zone_presence', name: 'lawn', classes: ['person'], zone: [[0, 0.68], [0.4, 0.68], [0.4, 1], [0, 1]] }],
      }),
    );
    const lists: RuleEvent[][] = [];
    for (const n of [1, 2]) {
      const eventsPath = join(dir, `events-${n}.jsonl`);
      const r = await runToEnd(SIE, ['replay', clip, '--model', MODEL, '--labels', LABELS, '--config', config, '--events', eventsPath], 150_000);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^replay: 120 frames \(120 detected\)/m);
      lists.push(readFileSync(eventsPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RuleEvent));
    }
    const [a, b] = lists as [RuleEvent[], RuleEvent[]];
    // Not a vacuous comparison: crossings, and more than one rule.
    expect(a.some((e) => e.type === 'cross')).toBe(true);
    expect(new Set(a.map((e) => e.rule_id)).size).toBeGreaterThanOrEqual(2);
    // Everything, `time` included: a replay's clock is the file's own (its first frame at the epoch).
    expect(b).toEqual(a);
  }, 320_000);
});
