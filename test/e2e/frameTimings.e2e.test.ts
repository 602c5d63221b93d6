import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, killAll, start, until } from '../helpers/processes.js';
import { LABELS, MODEL, PLAZA, SIE, probeFrames, runSie } from '../helpers/media.js';

/** `sie run --frame-timings`: a file source through the real pipeline, ffmpeg #2 and the embedded RTSP mount. */

interface TimingLine {
  runId: string;
  frameId: number;
  arrivedAtMs: number;
  stages: { stage: string; waitMs: number; serviceMs: number; startedAtMs: number }[];
  handedAtMs: number;
  sentAtMs: number;
}

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});
afterAll(killAll);

const lineCount = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').length - 1 : 0);

describe('sie run --frame-timings', () => {
  it('writes one line per new output frame, each from its arrival through the three stages to its packets sent', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sie-timings-e2e-'));
    const path = join(dir, 'timings.jsonl');
    const run = start(SIE, ['run', PLAZA, '--model', MODEL, '--labels', LABELS, '--port', String(await freePort()),
      '--stats-interval', '1', '--inference-workers', '1', '--frame-timings', path]);
    const url = (await run.waitFor(/^output: (rtsp:\/\/\S+)$/m, 20_000))[1]!;
    await until(() => lineCount(path) >= 1, 60_000, 'the first line of frame timings');
    // A reader on the mount for part of the time: the packets then go to a socket, not only to no one.
    const probed = await probeFrames(url, 'tcp', 2);
    expect(probed.pts.length).toBeGreaterThan(0);
    await until(() => lineCount(path) >= 30, 60_000, '30 lines of frame timings');
    run.child.kill('SIGINT');
    expect((await run.exited).code).toBe(0);

    // Closed on shutdown: every line whole.
    const text = readFileSync(path, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as TimingLine);
    expect(lines.length).toBeGreaterThanOrEqual(30);
    expect(new Set(lines.map((t) => t.runId)).size).toBe(1);
    let previous = -1;
    for (const t of lines) {
      const at = `frame ${t.frameId}`;
      expect(t.frameId, at).toBeGreaterThan(previous);
      previous = t.frameId;
      expect(t.stages.map((s) => s.stage), at).toEqual(['inference', 'rules', 'drawing']);
      for (const s of t.stages) {
        expect(s.startedAtMs, `${at} ${s.stage}`).toBeGreaterThanOrEqual(t.arrivedAtMs);
        expect(s.startedAtMs, `${at} ${s.stage}`).toBeLessThanOrEqual(t.handedAtMs);
      }
      expect(t.sentAtMs, at).toBeGreaterThanOrEqual(t.handedAtMs);
    }
  }, 120_000);

  it('a FILE whose directory does not exist, or with --push: a usage error (exit 2) naming the option', async () => {
    const base = ['run', PLAZA, '--model', MODEL, '--labels', LABELS];
    const missing = await runSie([...base, '--frame-timings', '/nonexistent-sie-dir/t.jsonl']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--frame-timings: directory /nonexistent-sie-dir does not exist');
    const push = await runSie([...base, '--frame-timings', join(tmpdir(), 't.jsonl'), '--push', 'rtsp://127.0.0.1:1/x']);
    expect(push.code).toBe(2);
    expect(push.stderr).toContain('--frame-timings: needs the embedded RTSP output');
  });
});
