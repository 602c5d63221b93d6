import { describe, expect, it } from 'vitest';
import { ReplayProgress, type ProgressStream } from '../../src/replay/progress.js';
import { chooseReplayClock, describeReplayClock, startTimeSchema } from '../../src/replay/clock.js';
import { mediaFactsFromFfprobe } from '../../src/replay/probe.js';
import { replayHints } from '../../src/replay/feedback.js';

/** A stream that records what is written, with a clock the test moves. */
function fakeStream(isTTY: boolean): ProgressStream & { text: string } {
  return { isTTY, text: '', write(t: string) { this.text += t; return true; } };
}

describe('replay progress', () => {
  it('off a terminal: one plain line every intervalS, and a done line at the end', () => {
    const stream = fakeStream(false);
    let ms = 0;
    const p = new ReplayProgress({ stream, durationS: 80, startS: 0, intervalS: 5, now: () => ms });
    // 10 frames a second of video, replayed at 40 frames a second (25 ms a frame), for 12 s of wall time.
    for (let f = 1; f <= 480; f++) {
      ms = f * 25;
      p.update({ frames: f, ptsS: (f - 1) / 10, events: Math.floor(f / 100) });
    }
    p.finish();
    const lines = stream.text.split('\n').filter(Boolean);
    expect(lines).toEqual([
      'replay: 201 frames, 25% of 80.0 s, 40.0 fps, 2 events so far',
      'replay: 401 frames, 50% of 80.0 s, 40.0 fps, 4 events so far',
      // finish() comes at the end of the file: 100%, though the last frame's pts is a frame short of it.
      'replay: done: 480 frames, 100% of 80.0 s, 40.0 fps, 4 events so far',
    ]);
    expect(stream.text).not.toMatch(/\r/);
  });

  it('on a terminal: the line is rewritten in place (CR, erase line) a few times a second, then ended', () => {
    const stream = fakeStream(true);
    let ms = 0;
    const p = new ReplayProgress({ stream, durationS: undefined, startS: 0, now: () => ms });
    for (let f = 1; f <= 40; f++) {
      ms = f * 25; // 1 s of wall time
      p.update({ frames: f, ptsS: (f - 1) / 10, events: 1 });
    }
    p.finish();
    const rewrites = stream.text.split('\r\x1b[K').filter(Boolean);
    // Every 250 ms at most: 3 in the second (at 250, 500, 750 ms after the first frame; 1000 ms is 975 after), plus done.
    expect(rewrites.length).toBe(4);
    expect(rewrites[0]).toBe('replay: 11 frames, 1.0 s of video, 40.0 fps, 1 event so far');
    expect(rewrites.at(-1)).toBe('replay: done: 40 frames, 3.9 s of video, 40.0 fps, 1 event so far\n');
    expect(stream.text).not.toMatch(/\n(?!$)/);
  });

  it('a failure only closes the line on screen', () => {
    const stream = fakeStream(true);
    let ms = 0;
    const p = new ReplayProgress({ stream, durationS: 10, startS: 0, now: () => ms });
    p.update({ frames: 1, ptsS: 0, events: 0 });
    ms = 300;
    p.update({ frames: 5, ptsS: 0.4, events: 0 });
    p.abandon();
    expect(stream.text).toBe('\r\x1b[Kreplay: 5 frames, 4% of 10.0 s, 13.3 fps, 0 events so far\n');
  });
});

describe('replay clock', () => {
  it('--start-time wins, then the file’s creation_time, then the epoch', () => {
    expect(chooseReplayClock({ startTime: '2024-05-01T14:00:00+02:00', creationTime: '2020-01-01T00:00:00.000000Z' })).toEqual({
      startedAtMs: Date.parse('2024-05-01T12:00:00Z'),
      source: 'start-time',
    });
    expect(chooseReplayClock({ creationTime: '2020-01-01T00:00:00.000000Z' })).toEqual({ startedAtMs: Date.parse('2020-01-01T00:00:00Z'), source: 'creation_time' });
    expect(chooseReplayClock({})).toEqual({ startedAtMs: 0, source: 'epoch' });
    const bad = chooseReplayClock({ creationTime: 'yesterday' });
    expect(bad).toEqual({ startedAtMs: 0, source: 'epoch', unreadableCreationTime: 'yesterday' });
    expect(describeReplayClock(bad)).toMatch(/creation_time "yesterday" is not a date; --start-time/);
    expect(describeReplayClock({ startedAtMs: 0, source: 'epoch' })).toBe(
      "event times start at 1970-01-01T00:00:00.000Z: the file has no creation_time; --start-time sets the first frame's time",
    );
  });

  it('--start-time needs a zone: a local time would date the events differently on another machine', () => {
    expect(startTimeSchema.safeParse('2024-05-01T12:00:00Z').success).toBe(true);
    expect(startTimeSchema.safeParse('2024-05-01T12:00:00').success).toBe(false);
    expect(startTimeSchema.safeParse('May 1st').success).toBe(false);
  });

  it('reads duration, start and creation_time from ffprobe’s format JSON, tags in any case', () => {
    const json = JSON.stringify({ format: { duration: '79.500000', start_time: '0.000000', tags: { CREATION_TIME: '2024-05-01T12:00:00.000000Z' } } });
    expect(mediaFactsFromFfprobe(json)).toEqual({ durationS: 79.5, startS: 0, creationTime: '2024-05-01T12:00:00.000000Z' });
    expect(mediaFactsFromFfprobe(JSON.stringify({ format: { duration: 'N/A' } }))).toEqual({ durationS: undefined, startS: 0, creationTime: undefined });
  });
});

describe('replay hints', () => {
  it('say what a replay without --out or --config will not give', () => {
    expect(replayHints({ out: undefined, rules: 0, configFile: undefined, clock: 'c' })).toEqual([
      'no --out: no annotated video is written (--out FILE.mp4 writes one)',
      'no --config: no rules, so no events (--config FILE.json: a config document with rules, as the API takes it)',
      'c',
    ]);
    expect(replayHints({ out: 'a.mp4', rules: 0, configFile: 'empty.json', clock: 'c' })).toEqual(['empty.json has no rules: no events will come', 'c']);
    expect(replayHints({ out: 'a.mp4', rules: 2, configFile: 'r.json', clock: 'c' })).toEqual(['c']);
  });
});
