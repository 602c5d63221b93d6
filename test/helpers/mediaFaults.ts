import type { Pool } from 'pg';
import { startCamera, type CameraOptions } from './cameras.js';
import { MODELS_DIR, insertRun, waitForRun } from './engineFixtures.js';
import { SIE } from './media.js';
import { childrenOf, freePort, isZombie, sleep, start, type ChildProcessInfo, type Spawned } from './processes.js';

/**
 * Helpers of the media fault suite (test/fault/camera|stall|bitstream|ffmpeg.*): a real `sie engine`
 * process on the test database, real cameras (`sie camera`), and an independent reader of the output
 * (ffmpeg over TCP) whose every decoded picture is recorded with its pts, brightness and checksum, so a
 * test judges what a viewer sees. Every process here is started with start() and so ends with killAll().
 */

/** Small pictures (startCamera's `size`): the faults are about the media plumbing, and two cores are shared by many tests. */
export const CAMERA_SIZE = '384x288';

export interface EngineProcess {
  proc: Spawned;
  rtspPort: number;
  pid: number;
}

/** `sie engine` as a user starts it (on the test database, models read from the shared folder). */
export async function startEngineProcess(databaseUrl: string, opts: { stallTimeoutS?: number } = {}): Promise<EngineProcess> {
  const rtspPort = await freePort();
  const proc = start(
    SIE,
    ['engine', '--rtsp-host', '127.0.0.1', '--rtsp-port', String(rtspPort), '--poll-interval', '0.5', '--lease-ttl', '10',
      '--max-runs', '2', '--stall-timeout', String(opts.stallTimeoutS ?? 2)],
    { SIE_DATABASE_URL: databaseUrl, SIE_DATA_DIR: MODELS_DIR, SIE_LOG_LEVEL: process.env.SIE_LOG_LEVEL ?? 'info' },
  );
  await proc.waitFor(/^engine: /m, 30_000);
  return { proc, rtspPort, pid: proc.child.pid! };
}

export interface WatchedRun {
  cam: Spawned;
  camPort: number;
  id: string;
  outputUrl: string;
  /** Connected before the fault, kept to the end. */
  viewer: StreamWatcher;
  /** Median brightness of the first pictures: live video (the slate is darker). */
  liveLuma: number;
}

/**
 * A camera on a free port (CAMERA_SIZE unless `camera` says otherwise), a run on it with the given columns
 * (retry settings, output_mount…), running, and a viewer that has seen its first `frames` pictures.
 */
export async function startWatchedRun(
  pool: Pool,
  configId: string,
  run: Record<string, unknown>,
  opts: { camera?: CameraOptions; frames?: number } = {},
): Promise<WatchedRun> {
  const camPort = await freePort();
  const cam = await startCamera(camPort, opts.camera ?? { size: CAMERA_SIZE });
  const id = await insertRun(pool, configId, `rtsp://127.0.0.1:${camPort}/cam`, run);
  const outputUrl = (await waitForRun(pool, id, (r) => r.state === 'running', 40_000)).output_url!;
  const viewer = new StreamWatcher(outputUrl);
  await viewer.waitFrames(opts.frames ?? 20, 30_000);
  return { cam, camPort, id, outputUrl, viewer, liveLuma: median(viewer.frames.map((f) => f.luma)) };
}

/** The config of these tests: inference on every 5th frame only (the pictures still flow at full rate). */
export const LIGHT_CONFIG = { inference: { confidence: 0.3, iou: 0.45, every_nth_frame: 5 }, rules: [], drawing: {} };

export interface Transition {
  to: string;
  atMs: number;
  errorKind: string | null;
}

/** A run's persisted transitions with their times (the database's clock: the same machine's). */
export async function transitionsAt(pool: Pool, runId: string): Promise<Transition[]> {
  const r = await pool.query<{ to_state: string; at_ms: string; error_kind: string | null }>(
    `SELECT to_state, (extract(epoch FROM at) * 1000)::text AS at_ms, error_kind FROM run_transitions WHERE run_id = $1 ORDER BY id`,
    [runId],
  );
  return r.rows.map((x) => ({ to: x.to_state, atMs: Number(x.at_ms), errorKind: x.error_kind }));
}

/** Polls until the run has a transition to `state` after index `after`; returns it. */
export async function waitForTransition(pool: Pool, runId: string, state: string, timeoutMs: number, after = -1): Promise<Transition> {
  const t0 = Date.now();
  for (;;) {
    const all = await transitionsAt(pool, runId);
    const hit = all.slice(after + 1).find((t) => t.to === state);
    if (hit) return hit;
    if (Date.now() - t0 > timeoutMs) throw new Error(`no transition to ${state} within ${timeoutMs} ms: ${all.map((t) => t.to).join(' → ')}`);
    await sleep(100);
  }
}

/**
 * The largest step between consecutive output pts (largestPtsGap) a fault may leave. The output runs at
 * 10 fps (0.1 s steps), its pts come from the engine's wall-clock ticks, and a tick missed while the
 * engine's event loop was held up (a loaded machine: GC, other tests) is skipped, not made up: a step of
 * one or two seconds is scheduling, not the fault. A torn-down or paused output is longer: the outages
 * of these tests last 2–3 s or more (and a reconnected reader would be a new process, caught by `alive`);
 * a frozen picture is caught by the brightness and distinct-picture checks, not by the pts.
 */
export const MAX_PTS_GAP_S = 2.5;

/** One picture as the independent reader decoded it. */
export interface SeenFrame {
  /** When the reader printed it (our clock). */
  wallMs: number;
  /** Its pts in the stream (seconds, the reader's time line). */
  pts: number;
  /** Mean luma of the (downscaled) picture, 0–255. */
  luma: number;
  /** Checksum of the downscaled picture: equal checksums = the same picture. */
  checksum: string;
  width: number;
  height: number;
}

const SHOWINFO = /n:\s*\d+\s+pts:\s*-?\d+\s+pts_time:(-?[\d.]+).*?checksum:([0-9A-F]+).*?mean:\[(\d+)/;

/**
 * A viewer that stays connected: ffmpeg reads the stream over TCP and prints every decoded picture
 * (showinfo on a 48x36 copy: cheap). The source size comes from ffmpeg's stream line.
 */
export class StreamWatcher {
  readonly frames: SeenFrame[] = [];
  readonly proc: Spawned;
  private width = 0;
  private height = 0;
  private partial = '';

  constructor(readonly url: string) {
    this.proc = start('ffmpeg', ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-rtsp_transport', 'tcp', '-i', url,
      '-vf', 'scale=48:36,showinfo', '-f', 'null', '-']);
    this.proc.child.stderr!.on('data', (d: string) => this.onText(d));
  }

  private onText(d: string): void {
    const lines = (this.partial + d).split('\n');
    this.partial = lines.pop() ?? '';
    const now = Date.now();
    for (const line of lines) {
      const size = /Stream #0:0.*Video: .*?, (\d+)x(\d+)/.exec(line);
      if (size && this.width === 0) {
        this.width = Number(size[1]);
        this.height = Number(size[2]);
      }
      const m = SHOWINFO.exec(line);
      if (m) this.frames.push({ wallMs: now, pts: Number(m[1]), luma: Number(m[3]), checksum: m[2]!, width: this.width, height: this.height });
    }
  }

  get alive(): boolean {
    return this.proc.child.exitCode === null && this.proc.child.signalCode === null;
  }

  /** Waits until `n` pictures (in total) arrived. */
  async waitFrames(n: number, timeoutMs: number): Promise<void> {
    const t0 = Date.now();
    while (this.frames.length < n) {
      if (!this.alive) throw new Error(`reader of ${this.url} exited: ${this.proc.stderr().slice(-1500)}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`reader of ${this.url}: ${this.frames.length}/${n} pictures after ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  /** Waits for a picture after `fromMs` (our clock) that satisfies `ok`; returns it. */
  async waitFor(ok: (f: SeenFrame) => boolean, fromMs: number, timeoutMs: number, what: string): Promise<SeenFrame> {
    const t0 = Date.now();
    for (;;) {
      const hit = this.frames.find((f) => f.wallMs >= fromMs && ok(f));
      if (hit) return hit;
      if (!this.alive) throw new Error(`reader exited while waiting for ${what}: ${this.proc.stderr().slice(-1500)}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`no picture (${what}) within ${timeoutMs} ms; last: ${JSON.stringify(this.frames.slice(-3))}`);
      await sleep(50);
    }
  }

  /**
   * Our clock → the stream's time line. The offset is taken from the least delayed pictures (the
   * smallest wall − pts), so scheduling noise in the reader only ever delays a picture, never advances it.
   */
  ptsAt(wallMs: number): number {
    let best = Infinity;
    for (const f of this.frames) best = Math.min(best, f.wallMs / 1000 - f.pts);
    return wallMs / 1000 - best;
  }

  /** The largest step between consecutive pictures' pts in [fromMs, toMs] (our clock). */
  largestPtsGap(fromMs = 0, toMs = Infinity): number {
    const fs = this.frames.filter((f) => f.wallMs >= fromMs && f.wallMs <= toMs);
    let gap = 0;
    for (let i = 1; i < fs.length; i++) gap = Math.max(gap, fs[i]!.pts - fs[i - 1]!.pts);
    return gap;
  }

  async stop(): Promise<void> {
    if (this.alive) this.proc.child.kill('SIGTERM');
    await this.proc.exited;
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Distinct checksums among pictures: a frozen output has one (or two, with the slate's counter). */
export function distinctPictures(fs: SeenFrame[]): number {
  return new Set(fs.map((f) => f.checksum)).size;
}

/** The engine's ffmpeg #1 (reads the source) and #2 (raw pictures in on stdin). */
export function engineFfmpegs(enginePid: number): { decoder: ChildProcessInfo[]; encoder: ChildProcessInfo[]; zombies: ChildProcessInfo[] } {
  const kids = childrenOf(enginePid);
  const ff = kids.filter((k) => /ffmpeg/.test(k.args));
  return {
    decoder: ff.filter((k) => / -i (rtsp|\/)/.test(k.args) && !isZombie(k)),
    encoder: ff.filter((k) => / -i pipe:0/.test(k.args) && !isZombie(k)),
    zombies: kids.filter(isZombie),
  };
}
