import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFrameTimingsLog } from '../../src/io/frameTimingsLog.js';
import type { FrameOutputTiming } from '../../src/pipeline/frameTimings.js';
import { silentLogger } from '../../src/log.js';

/** The frame timings file on a real file system. */

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

function timing(frameId: number): FrameOutputTiming {
  const at = 1_712_345_678_901.125 + frameId * 100;
  return {
    runId: 'run-1',
    frameId,
    arrivedAtMs: at,
    stages: [
      { stage: 'inference', waitMs: 0.000_4, serviceMs: 12.345_678, startedAtMs: at + 0.000_4 },
      { stage: 'rules', waitMs: 0.1, serviceMs: 0.2, startedAtMs: at + 12.5 },
      { stage: 'drawing', waitMs: 1 / 3, serviceMs: 2 / 3, startedAtMs: at + 13 },
    ],
    handedAtMs: at + 40.987_654_3,
    sentAtMs: at + 52.000_9,
  };
}

describe('frame timings file', () => {
  it('one JSON line per timing, in order, times to the microsecond; truncated when opened again', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sie-timings-'));
    const path = join(dir, 't.jsonl');
    const first = await openFrameTimingsLog(path, { logger: silentLogger });
    for (let i = 0; i < 50; i++) first.record(timing(i));
    await first.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(50);
    expect(lines[0]).toBe(
      '{"runId":"run-1","frameId":0,"arrivedAtMs":1712345678901.125,"stages":[' +
        '{"stage":"inference","waitMs":0,"serviceMs":12.346,"startedAtMs":1712345678901.126},' +
        '{"stage":"rules","waitMs":0.1,"serviceMs":0.2,"startedAtMs":1712345678913.625},' +
        '{"stage":"drawing","waitMs":0.333,"serviceMs":0.667,"startedAtMs":1712345678914.125}],' +
        '"handedAtMs":1712345678942.113,"sentAtMs":1712345678953.126}',
    );
    expect(lines.map((l) => (JSON.parse(l) as FrameOutputTiming).frameId)).toEqual([...Array(50).keys()]);
    for (const l of lines) expect(l, 'no number with more than 3 decimals').not.toMatch(/\.\d{4}/);
    expect([first.written, first.dropped]).toEqual([50, 0]);

    const again = await openFrameTimingsLog(path, { logger: silentLogger });
    again.record(timing(7));
    await again.close();
    expect(readFileSync(path, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as FrameOutputTiming).frameId)).toEqual([7]);
  });

  it('drops and counts lines while the disk is behind by more than the limit, and after close', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sie-timings-'));
    const path = join(dir, 't.jsonl');
    // A limit below one line: while the first line is still on its way to the disk, the rest are dropped.
    const log = await openFrameTimingsLog(path, { logger: silentLogger, maxBufferedBytes: 10 });
    for (let i = 0; i < 20; i++) log.record(timing(i));
    expect([log.written, log.dropped]).toEqual([1, 19]);
    await log.close();
    log.record(timing(20));
    expect(log.dropped).toBe(20);
    expect(readFileSync(path, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as FrameOutputTiming).frameId)).toEqual([0]);
  });

  it('a file that cannot be opened rejects at once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sie-timings-'));
    await expect(openFrameTimingsLog(join(dir, 'missing', 't.jsonl'), { logger: silentLogger })).rejects.toThrow(/ENOENT/);
  });
});
