import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LABELS, MODEL, PLAZA, SIE } from '../helpers/media.js';
import { runToEnd } from '../helpers/processes.js';
import type { RuleEvent } from '../../src/rules/events.js';

/**
 * What `sie replay` tells while it works, and how it dates events: two 3 s cuts of the plaza clip made
 * here with ffmpeg, the same frames (stream copy), one with a creation_time in its metadata and one with
 * no metadata at all. A whole-frame presence zone for people gives `enter` events from the first second.
 */
let dir: string;
let withDate: string;
let undated: string;
let config: string;
const CREATED = '2024-05-01T12:00:00Z';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sie-replay-feedback-'));
  withDate = join(dir, 'dated.mp4');
  undated = join(dir, 'undated.mp4');
  const cut = ['-v', 'error', '-i', PLAZA, '-t', '3', '-c', 'copy'];
  expect((await runToEnd('ffmpeg', [...cut, '-metadata', `creation_time=${CREATED}`, withDate])).code).toBe(0);
  expect((await runToEnd('ffmpeg', [...cut, '-map_metadata', '-1', undated])).code).toBe(0);
  const probe = await runToEnd('ffprobe', ['-v', 'error', '-show_entries', 'format_tags=creation_time', '-of', 'json', undated]);
  expect(probe.stdout, 'the undated cut really has no creation_time').not.toMatch(/creation_time/);
  config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ rules: [{ id: 'everywhere', type: 'zone_presence', classes: ['person'], zone: [[0, 0], [1, 0], [1, 1], [0, 1]] }] }));
});

async function replay(video: string, extra: string[]): Promise<{ code: number | null; stdout: string; stderr: string; events: RuleEvent[] }> {
  const eventsPath = join(dir, `events-${Math.random().toString(36).slice(2)}.jsonl`);
  const r = await runToEnd(SIE, ['replay', video, '--model', MODEL, '--labels', LABELS, '--events', eventsPath, ...extra], 150_000);
  const text = r.code === 0 ? readFileSync(eventsPath, 'utf8').trim() : '';
  return { ...r, events: text ? text.split('\n').map((l) => JSON.parse(l) as RuleEvent) : [] };
}

/** The events without their `time`, and each time as ms after the first frame's time. */
function withoutTime(events: RuleEvent[]): Omit<RuleEvent, 'time'>[] {
  return events.map(({ time: _time, ...rest }) => rest);
}

describe('sie replay: hints, progress, event times', () => {
  it("dates events from the file's creation_time, says so, and reports progress on stderr (not a terminal: plain lines)", async () => {
    const r = await replay(withDate, ['--config', config]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^replay: no --out: no annotated video is written/m);
    expect(r.stderr).not.toMatch(/no --config/);
    expect(r.stderr).toMatch(/^replay: event times start at 2024-05-01T12:00:00\.000Z \(the file's creation_time\)$/m);
    // The closing progress line (a 3 s clip ends before the first 5 s line is due), no terminal codes.
    expect(r.stderr).toMatch(/^replay: done: 30 frames, 100% of 3\.0 s, [\d.]+ fps, \d+ events? so far$/m);
    expect(r.stderr.includes('\r') || r.stderr.includes('\x1b'), 'no terminal codes').toBe(false);
    expect(r.stdout).toMatch(/^replay: 30 frames/m);
    expect(r.events.length).toBeGreaterThan(0);
    for (const e of r.events) {
      // time = creation_time + the frame's pts (the cut starts at pts 0).
      expect(Date.parse(e.time) - Date.parse(CREATED)).toBe(Math.round(e.pts * 1000));
    }
    // Deterministic: the same file and options once more, the same events, times included.
    const again = await replay(withDate, ['--config', config]);
    expect(again.events).toEqual(r.events);
  }, 300_000);

  it('without creation_time: the epoch, said so; --start-time moves only the times', async () => {
    const epoch = await replay(undated, ['--config', config]);
    expect(epoch.code, epoch.stderr).toBe(0);
    expect(epoch.stderr).toMatch(/^replay: event times start at 1970-01-01T00:00:00\.000Z: the file has no creation_time; --start-time sets the first frame's time$/m);
    expect(epoch.events.every((e) => e.time.startsWith('1970-01-01T00:00:0'))).toBe(true);

    const given = await replay(undated, ['--config', config, '--start-time', '2024-06-01T08:00:00+02:00']);
    expect(given.code, given.stderr).toBe(0);
    expect(given.stderr).toMatch(/^replay: event times start at 2024-06-01T06:00:00\.000Z \(--start-time\)$/m);
    expect(given.events.map((e) => Date.parse(e.time) - Date.parse('2024-06-01T06:00:00Z'))).toEqual(epoch.events.map((e) => Date.parse(e.time)));
    // Everything but the times is the same, and the same as from the dated cut (same frames).
    expect(withoutTime(given.events)).toEqual(withoutTime(epoch.events));
  }, 300_000);

  it('without --config: says that no events will come', async () => {
    const r = await replay(undated, []);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^replay: no --config: no rules, so no events/m);
    expect(r.stdout).toMatch(/^events: 0$/m);
  }, 150_000);

  it('a --start-time without a zone is a usage error naming the option', async () => {
    const r = await runToEnd(SIE, ['replay', undated, '--model', MODEL, '--labels', LABELS, '--start-time', '2024-05-01 12:00']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/start-time/);
    expect(r.stderr).toMatch(/ISO 8601 date and time with its zone/);
  });

  it('on a terminal: one line rewritten in place (carriage return, erase line), ended with a newline', async () => {
    // script(1) gives the replay a pseudo-terminal for stdout and stderr.
    const cmd = [SIE, 'replay', withDate, '--model', MODEL, '--labels', LABELS, '--config', config].map((a) => `'${a}'`).join(' ');
    const r = await runToEnd('script', ['-qec', cmd, '/dev/null'], 150_000);
    expect(r.code, r.stdout).toBe(0);
    const rewrites = r.stdout.split('\r\x1b[K').slice(1);
    expect(rewrites.length).toBeGreaterThanOrEqual(1);
    expect(rewrites.at(-1)).toMatch(/^replay: done: 30 frames, 100% of 3\.0 s, [\d.]+ fps, \d+ events? so far\r?\n/);
    // Between rewrites nothing but the line itself: no newline until the end.
    for (const line of rewrites.slice(0, -1)) expect(line).toMatch(/^replay: \d+ frames, \d+% of 3\.0 s, [\d.]+ fps, \d+ events? so far$/);
  }, 150_000);
});
