import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDetector, type Detector } from '../../src/io/models/detector.js';
import { Palette } from '../../src/drawing/palette.js';
import { freePort, isAlive, killAll, runToEnd, sleep, start, type Spawned } from '../helpers/processes.js';
import { LABELS, MODEL, PLAZA, SIE, fpsOf, grabFrame, probeFrames, streamRate } from '../helpers/media.js';

/** End to end with real processes: camera simulator → `sie run` → independent clients (ffprobe, ffmpeg). */

async function startCamera(extra: string[] = []): Promise<{ proc: Spawned; port: number }> {
  const port = await freePort();
  const proc = start(SIE, ['camera', PLAZA, '--port', String(port), '--mount', 'cam', ...extra]);
  await proc.waitFor(/^camera: rtsp:\/\//m, 20_000);
  return { proc, port };
}

async function startRun(source: string, extra: string[] = []): Promise<{ proc: Spawned; url: string }> {
  const port = await freePort();
  const proc = start(SIE, ['run', source, '--model', MODEL, '--labels', LABELS, '--port', String(port), '--stats-interval', '1', ...extra]);
  const m = await proc.waitFor(/^output: (rtsp:\/\/\S+)$/m, 20_000);
  return { proc, url: m[1]! };
}

function statusLines(p: Spawned): Record<string, string>[] {
  return p
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('status: '))
    .map((l) => Object.fromEntries(l.slice(8).split(' ').map((kv) => kv.split('=') as [string, string])));
}

afterAll(killAll);

describe('sie run on the plaza camera (768x576, 10 fps)', () => {
  let run: { proc: Spawned; url: string };
  let detector: Detector;

  beforeAll(async () => {
    const cam = await startCamera();
    run = await startRun(`rtsp://127.0.0.1:${cam.port}/cam`);
    await run.proc.waitFor(/state=running/, 30_000);
    detector = await createDetector({ weightsPath: MODEL, labels: LABELS, confidence: 0.5 });
  }, 90_000);

  it('keeps encoding while no reader is connected', async () => {
    await run.proc.waitFor(/status: .*frames_out=[1-9]/, 15_000);
    const before = Number(statusLines(run.proc).at(-1)!.frames_out);
    await sleep(3000);
    const after = Number(statusLines(run.proc).at(-1)!.frames_out);
    // The output clock runs at 10 fps with nobody watching; the rate itself is checked by the readers below.
    expect(after - before).toBeGreaterThanOrEqual(10);
  });

  it('serves H.264 at the source size and rate to two readers at once, over TCP and UDP', async () => {
    const [tcp, udp] = await Promise.all([probeFrames(run.url, 'tcp', 6), probeFrames(run.url, 'udp', 6)]);
    for (const r of [tcp, udp]) {
      expect(r.codec).toBe('h264');
      expect([r.width, r.height]).toEqual([768, 576]);
      expect(r.pts.length).toBeGreaterThan(40);
      expect(Math.max(...r.pts) - Math.min(...r.pts)).toBeGreaterThanOrEqual(4.5);
      // The stream's own rate, from the spacing of its timestamps: a UDP reader on a busy machine may lose
      // packets (and so pictures) without the stream being any slower.
      expect(Math.abs(streamRate(r.pts) - 10)).toBeLessThanOrEqual(1);
    }
    // Over TCP nothing is lost: the reader gets (nearly) every picture of the 10 fps stream.
    expect(Math.abs(fpsOf(tcp.pts) - 10)).toBeLessThanOrEqual(1);
  }, 60_000);

  it('draws the person boxes where the detector finds persons', async () => {
    const W = 768;
    const H = 576;
    const cw = W / 2;
    const person = new Palette().forClass(0).fill;
    let checked = 0;
    let outlined = 0;
    const missed: string[] = [];
    // Three pictures a few seconds apart: each person the detector finds again on the annotated output
    // must carry a box outline in the person colour along its left and right edges.
    for (const skip of [10, 40, 70]) {
      const frame = await grabFrame(run.url, W, H, skip);
      const found = await detector.detect({ pixels: frame, width: W, height: H });
      const isPersonColour = (x: number, y: number) => {
        const ci = (y >> 1) * cw + (x >> 1);
        const u = frame[W * H + ci]!;
        const v = frame[W * H + cw * (H / 2) + ci]!;
        return Math.abs(u - person.u) < 28 && Math.abs(v - person.v) < 28;
      };
      for (let i = 0; i < found.count; i++) {
        if (found.classId[i] !== 0 || found.confidence[i]! < 0.5) continue;
        const [x1, y1, x2, y2] = Array.from(found.xyxy.subarray(i * 4, i * 4 + 4)).map(Math.round) as [number, number, number, number];
        if (x2 - x1 < 12 || y2 - y1 < 24) continue;
        // Rows of the box's lower half (the upper part may hold the label tag).
        let hits = 0;
        let rows = 0;
        for (let y = Math.round((y1 + y2) / 2); y < y2 - 2; y += 2) {
          rows++;
          let left = false;
          let right = false;
          for (let d = -6; d <= 6; d++) {
            if (x1 + d >= 0 && x1 + d < W && isPersonColour(x1 + d, y)) left = true;
            if (x2 + d >= 0 && x2 + d < W && isPersonColour(x2 + d, y)) right = true;
          }
          if (left && right) hits++;
        }
        checked++;
        if (hits / rows > 0.6) outlined++;
        else missed.push(`${[x1, y1, x2, y2]} (${hits}/${rows} rows)`);
      }
      // And the colour is not everywhere.
      let purple = 0;
      for (let y = 0; y < H; y += 4) for (let x = 0; x < W; x += 4) if (isPersonColour(x, y)) purple++;
      expect(purple / ((W / 4) * (H / 4))).toBeLessThan(0.1);
    }
    expect(checked).toBeGreaterThanOrEqual(3);
    // Two independent detections (the pipeline's on the source, ours on the compressed, annotated output)
    // may disagree on a borderline person; nearly all must carry their outline.
    expect(outlined / checked, `not outlined: ${missed.join('; ')}`).toBeGreaterThanOrEqual(0.75);
  }, 90_000);

  it('stops cleanly on SIGINT and reaps both ffmpeg processes', async () => {
    const pid = run.proc.child.pid!;
    const children = (await runToEnd('pgrep', ['-P', String(pid)])).stdout.split('\n').filter(Boolean).map(Number);
    expect(children.length).toBe(2); // ffmpeg #1 and #2
    const t0 = Date.now();
    run.proc.child.kill('SIGINT');
    const exit = await run.proc.exited;
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(exit.code).toBe(0);
    expect(run.proc.stdout()).toMatch(/ended: stopped/);
    for (const c of children) expect(isAlive(c), `ffmpeg ${c} still alive`).toBe(false);
  }, 20_000);
});

describe('other cameras', () => {
  it('reads an H.265 camera', async () => {
    const cam = await startCamera(['--codec', 'h265']);
    const run = await startRun(`rtsp://127.0.0.1:${cam.port}/cam`);
    await run.proc.waitFor(/state=running/, 30_000);
    const r = await probeFrames(run.url, 'tcp', 3);
    expect(r.codec).toBe('h264');
    expect([r.width, r.height]).toEqual([768, 576]);
    expect(r.pts.length).toBeGreaterThan(5);
    run.proc.child.kill('SIGTERM');
    cam.proc.child.kill('SIGTERM');
    await Promise.all([run.proc.exited, cam.proc.exited]);
  }, 90_000);

  it('reads a camera that requires basic auth, and never prints its password', async () => {
    const password = 'Pa55-w0rd-7Hq';
    const cam = await startCamera(['--user', 'viewer', '--password', password]);
    const run = await startRun(`rtsp://viewer:${password}@127.0.0.1:${cam.port}/cam`);
    await run.proc.waitFor(/state=running/, 30_000);
    const r = await probeFrames(run.url, 'tcp', 3);
    expect(r.pts.length).toBeGreaterThan(5);
    run.proc.child.kill('SIGTERM');
    await run.proc.exited;
    const everything = run.proc.stdout() + run.proc.stderr() + cam.proc.stdout() + cam.proc.stderr();
    expect(everything).toContain('viewer');
    expect(everything).not.toContain(password);
    cam.proc.child.kill('SIGTERM');
    await cam.proc.exited;
  }, 90_000);

  it('a wrong password fails the run with a clear error, still without printing it', async () => {
    const cam = await startCamera(['--user', 'viewer', '--password', 'right-one-123']);
    const t0 = Date.now();
    const r = await runToEnd(SIE, ['run', `rtsp://viewer:wrong-one-456@127.0.0.1:${cam.port}/cam`, '--model', MODEL, '--labels', LABELS, '--port', String(await freePort())], 30_000);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ended: failed \(source_unreachable: .*401/);
    // A refusal ends the run without waiting for the 10 s connect timeout (start-up included).
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(r.stdout + r.stderr).not.toContain('wrong-one-456');
    cam.proc.child.kill('SIGTERM');
    await cam.proc.exited;
  }, 40_000);
});

describe('unreachable sources fail within the connect timeout', () => {
  it('a closed port fails at once with source_unreachable', async () => {
    const t0 = Date.now();
    const r = await runToEnd(SIE, ['run', `rtsp://127.0.0.1:${await freePort()}/nothing`, '--model', MODEL, '--labels', LABELS, '--port', String(await freePort())], 30_000);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ended: failed \(source_unreachable: /);
    expect(Date.now() - t0).toBeLessThan(12_000);
  }, 40_000);

  it('a server that accepts and never answers fails after the default 10 s, not later', async () => {
    const { createServer } = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const silent = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const t0 = Date.now();
    const r = await runToEnd(SIE, ['run', `rtsp://127.0.0.1:${port}/silent`, '--model', MODEL, '--labels', LABELS, '--port', String(await freePort())], 40_000);
    const elapsed = Date.now() - t0;
    sockets.forEach((s) => s.destroy());
    silent.close();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ended: failed \(source_unreachable: /);
    expect(elapsed).toBeGreaterThanOrEqual(9_000);
    expect(elapsed).toBeLessThan(16_000);
  }, 50_000);
});
