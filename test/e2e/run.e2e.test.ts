import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDetector, type Detector } from '../../src/inference/detector.js';
import { Palette } from '../../src/drawing/palette.js';
import { freePort, isAlive, killAll, runToEnd, sleep, start, type Spawned } from '../helpers/processes.js';
import { LABELS, MODEL, SIE, fpsOf, grabFrame, probeFrames, streamRate } from '../helpers/media.js';
import { startCamera } from '../helpers/cameras.js';

/** End to end with real processes: camera simulator → `sie run` → independent clients (ffprobe, ffmpeg). */

/** A camera on a port of its own. */
async function camera(extra: string[] = []): Promise<{ proc: Spawned; port: number }> {
  const port = await freePort();
  return { proc: await startCamera(port, { args: extra }), port };
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
    const cam = await camera();
    run = await startRun(`rtsp://127.0.0.1:${cam.port}/cam`);
    await run.proc.waitFor(/state=running/, 30_000);
    detector = await createDetector({ weightsPath: MODEL, labels: LABELS, confidence: 0.5 });
  }, 90_000);

  it('keeps encoding while no reader is connected', async () => {
    await run.proc.waitFor(/status: .*frames_out=[1-9]/, 15_000);
    const framesOut = () => Number(statusLines(run.proc).at(-1)!.frames_out);
    const before = framesOut();
    // The output clock runs with nobody watching: frames keep going out (the rate is checked by the readers below).
    const t0 = Date.now();
    while (framesOut() - before < 10) {
      if (Date.now() - t0 > 30_000) throw new Error(`only ${framesOut() - before} frames out in 30 s with no reader`);
      await sleep(100);
    }
  }, 60_000);

  it('serves H.264 at the source size and rate to two readers at once, over TCP and UDP', async () => {
    const [tcp, udp] = await Promise.all([probeFrames(run.url, 'tcp', 6), probeFrames(run.url, 'udp', 6)]);
    for (const [name, r] of [['tcp', tcp], ['udp', udp]] as const) {
      expect(r.codec).toBe('h264');
      expect([r.width, r.height]).toEqual([768, 576]);
      // Pictures all through the window (how many depends on the machine's load: a starved event loop skips
      // output ticks, and a UDP reader may lose packets; the figures themselves are `sie bench`'s job).
      expect(r.pts.length, name).toBeGreaterThan(10);
      expect(Math.max(...r.pts) - Math.min(...r.pts), name).toBeGreaterThanOrEqual(4.5);
      // The stream's own rate, from the spacing of its timestamps: it does not depend on the load.
      expect(Math.abs(streamRate(r.pts) - 10), name).toBeLessThanOrEqual(1);
    }
    // How many of the pictures a TCP reader gets per second is a figure (a loaded machine skips output
    // ticks, which no client can tell from lost pictures): `sie bench` measures it. Here: a live stream.
    expect(fpsOf(tcp.pts)).toBeGreaterThan(2);
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
    run.proc.child.kill('SIGINT');
    const exit = await run.proc.exited;
    expect(exit.code).toBe(0);
    expect(run.proc.stdout()).toMatch(/ended: stopped/);
    for (const c of children) expect(isAlive(c), `ffmpeg ${c} still alive`).toBe(false);
  }, 60_000);
});

describe('other cameras', () => {
  it('reads an H.265 camera', async () => {
    const cam = await camera(['--codec', 'h265']);
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
    const cam = await camera(['--user', 'viewer', '--password', password]);
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
    const cam = await camera(['--user', 'viewer', '--password', 'right-one-123']);
    // A refusal ends the run at once, not at the connect timeout: with a 300 s timeout, an end within
    // the 90 s this command is given can only be the refusal.
    const r = await runToEnd(SIE, ['run', `rtsp://viewer:wrong-one-456@127.0.0.1:${cam.port}/cam`, '--model', MODEL, '--labels', LABELS, '--port', String(await freePort()), '--connect-timeout', '300'], 90_000);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ended: failed \(source_unreachable: .*401/);
    expect(r.stdout + r.stderr).not.toContain('wrong-one-456');
    cam.proc.child.kill('SIGTERM');
    await cam.proc.exited;
  }, 120_000);
});

describe('unreachable sources fail within the connect timeout', () => {
  it('a closed port fails at once with source_unreachable', async () => {
    // At once, not at the connect timeout: with a 300 s timeout, an end within 90 s can only be the refusal.
    const r = await runToEnd(SIE, ['run', `rtsp://127.0.0.1:${await freePort()}/nothing`, '--model', MODEL, '--labels', LABELS, '--port', String(await freePort()), '--connect-timeout', '300'], 90_000);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ended: failed \(source_unreachable: /);
  }, 120_000);

  it('a server that accepts and never answers fails after the default 10 s, not later', async () => {
    const { createServer } = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    let firstConnectAt: number | undefined;
    const silent = createServer((s) => {
      firstConnectAt ??= Date.now();
      sockets.push(s);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    // 90 s for the command: a run that waited on past its timeout (or forever) is killed and fails below.
    const r = await runToEnd(SIE, ['run', `rtsp://127.0.0.1:${port}/silent`, '--model', MODEL, '--labels', LABELS, '--port', String(await freePort())], 90_000);
    const ended = Date.now();
    sockets.forEach((s) => s.destroy());
    silent.close();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ended: failed \(source_unreachable: /);
    expect(r.stdout).toMatch(/within 10 s|10 s/);
    // Not before the timeout: measured from the source's first connection (start-up excluded, which load stretches).
    expect(firstConnectAt).toBeDefined();
    expect(ended - firstConnectAt!).toBeGreaterThanOrEqual(9_000);
    // Nor long after it (a generous margin for a loaded machine; the figure itself is not the point).
    expect(ended - firstConnectAt!).toBeLessThan(40_000);
  }, 120_000);
});
