import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rulesConfigSchema } from '../../src/config/rules.js';
import { scoreClip, truthSchema, type Truth } from '../../src/accuracy/truth.js';
import type { RuleEvent } from '../../src/rules/index.js';
import { ConfigInvalidError } from '../../src/errors.js';
import { loadConfigFile } from '../../src/config/file.js';

const rules = rulesConfigSchema.parse([
  { id: 'line', type: 'line_crossing', line: [[0.5, 0], [0.5, 1]] },
  { id: 'dwell', type: 'zone_dwell', min_seconds: 5, zone: [[0, 0], [1, 0], [1, 1], [0, 1]] },
  { id: 'zone', type: 'zone_presence', zone: [[0, 0], [1, 0], [1, 1], [0, 1]] },
]);

const truth: Truth = truthSchema.parse({
  clip: 'c.mp4', config: 'c.json', width: 100, height: 100, fps: 10, frames: 500,
  rules: {
    line: { type: 'line_crossing', crossings: [{ frame: 100, direction: 'in' }, { frame: 200, direction: 'out' }] },
    // 5 s at 10 fps: a dwell is expected at enter + 50, and not at all for the 3 s visit.
    dwell: { type: 'zone_dwell', visits: [{ enter: 0, leave: 400 }, { enter: 300, leave: 330 }] },
    zone: { type: 'zone_presence', visits: [{ enter: 10, leave: 90 }] },
  },
});

let seq = 0;
function ev(rule_id: string, type: RuleEvent['type'], frame_id: number, extra: Partial<RuleEvent> = {}): RuleEvent {
  return { id: `r:${rule_id}:${seq++}`, run_id: 'r', client_id: 'c', rule_id, type, track_id: 1, class: 'person', frame_id, pts: frame_id / 10, time: '', box: null, extra: {}, ...extra };
}

describe('scoreClip', () => {
  it('scores each rule of the truth with the events of that rule only', () => {
    const events = [
      ev('line', 'cross', 103, { direction: 'in' }),
      ev('line', 'cross', 200, { direction: 'in' }), // wrong direction
      ev('dwell', 'dwell', 50),
      ev('zone', 'enter', 12), ev('zone', 'leave', 40), ev('zone', 'enter', 41), ev('zone', 'leave', 90), // split by a flicker
      ev('other', 'cross', 100, { direction: 'in' }),
    ];
    const [line, dwell, zone] = scoreClip(truth, rules, events);
    expect(line).toMatchObject({ rule: 'line', type: 'line_crossing', score: { matched: 1, missed: 1, falseAlarms: 1 }, missedFrames: [200], falseAlarmFrames: [200] });
    expect(dwell).toMatchObject({ rule: 'dwell', score: { truth: 1, engine: 1, matched: 1, recall: 1, precision: 1 } });
    expect(zone).toMatchObject({ rule: 'zone', score: { matched: 0, missed: 1, falseAlarms: 2 }, falseAlarmFrames: [12, 41] });
  });

  it('refuses a truth for a rule the config lacks or has with another type', () => {
    const t = { ...truth, rules: { nope: truth.rules.line! } };
    expect(() => scoreClip(t, rules, [])).toThrow(ConfigInvalidError);
    const u = { ...truth, rules: { dwell: truth.rules.line! } };
    expect(() => scoreClip(u, rules, [])).toThrow(/zone_dwell in c\.json, line_crossing in the truth/);
  });

  it('the committed truth files parse', () => {
    const plaza = truthSchema.parse(JSON.parse(readFileSync('test/fixtures/truth/plaza.json', 'utf8')));
    expect(plaza.rules.walkway?.type).toBe('line_crossing');
    const frames = plaza.rules.walkway?.type === 'line_crossing' ? plaza.rules.walkway.crossings.map((c) => c.frame) : [];
    expect(frames).toEqual([...frames].sort((a, b) => a - b));
  });

  // Every truth file, so that a new clip's truth is held to the same checks without a model: its config loads
  // and has each rule with the same type, every frame lies in the clip, events are in order, evidence exists.
  const truthDir = 'test/fixtures/truth';
  const files = readdirSync(truthDir).filter((f) => f.endsWith('.json'));
  it('has the truth of both shipped clips', () => {
    expect(files.sort()).toEqual(['one-by-one.json', 'plaza.json']);
  });
  it.each(files)('%s: config, frames, order and evidence hold', async (file) => {
    const t = truthSchema.parse(JSON.parse(readFileSync(join(truthDir, file), 'utf8')));
    const config = await loadConfigFile(join('test/fixtures', t.config));
    const evidence: string[] = [];
    for (const [id, r] of Object.entries(t.rules)) {
      expect(config.body.rules.find((x) => x.id === id)?.type, `${file}: rule ${id}`).toBe(r.type);
      // Visits of different objects may overlap: in order of entry.
      const order = r.type === 'line_crossing' ? r.crossings.map((c) => c.frame) : r.visits.map((v) => v.enter);
      expect(order, `${file}: ${id} in order`).toEqual([...order].sort((a, b) => a - b));
      const frames = r.type === 'line_crossing' ? order : r.visits.map((v) => v.leave);
      for (const f of frames) expect(f, `${file}: ${id} frame ${f}`).toBeLessThan(t.frames);
      const items = r.type === 'line_crossing' ? r.crossings : r.visits;
      evidence.push(...items.flatMap((x) => (x.evidence ? [x.evidence] : [])), ...(r.not_counted ?? []).flatMap((x) => (x.evidence ? [x.evidence] : [])));
    }
    for (const e of evidence) expect(existsSync(join(truthDir, e)), `${file}: evidence ${e}`).toBe(true);
  });
});
