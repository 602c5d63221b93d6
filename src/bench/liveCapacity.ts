import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { createScratchDatabase } from '../io/db/scratch.js';
import { resolveFfmpeg } from '../io/ffmpeg/binary.js';
import { WALKWAY_RULES, dropBenchDatabase, insertModelAndConfig, insertRun } from './benchSetup.js';
import { Child, SIE_MAIN, freePort, sleep } from './children.js';
import { parseFrameTimings, summariseLatency, type FrameTimingLine, type LatencySummary } from './latency.js';
import { treeCpuMs, treeRssKb } from './procfs.js';
import type { BenchClip } from './clips.js';
import { formatLoad } from './loadAverage.js';

/** A stream holds when its output has at least this share of the source's rate in new frames (24.5 of 25)… */
export const HOLD_FPS_SHARE = 0.98;
/** …and fewer than this percentage of its frames were dropped. */
export const HOLD_MAX_DROPPED_PCT = 1;

/** The counters of one run's `run stats` line (RunSupervisor.logStats), with the line's time. */
interface RunStatsLine {
  runId: string;
  time: number;
  framesIn: number;
  framesOut: number;
  framesRepeated: number;
  framesSlate: number;
  dropped: number;
  droppedEncoderBusy: number;
}

export interface StreamFigures {
  /** New frames out per second (repeats and slates not counted). */
  fps: number;
  droppedPct: number;
}

export interface CapacityStep {
  streams: number;
  perStream: StreamFigures[];
  held: boolean;
  /** New frames out per second, all streams together. */
  totalFps: number;
  /** CPU of the engine and its ffmpeg processes per frame in, over the window. */
  cpuMsPerFrame: number;
  /** The engine and both ffmpeg of every run, at the window's end. */
  rssMb: number;
  load: [number, number, number];
  latency: LatencySummary;
}

export interface CapacityTrial {
  clip: string;
  everyNthFrame: number;
  /** The most streams that held (0: not even one). */
  capacity: number;
  /** True when the trial stopped at maxStreams with every step held: capacity is at least that. */
  reachedMax: boolean;
  steps: CapacityStep[];
}

export interface CapacityOptions {
  clip: BenchClip;
  everyNthFrame: number;
  maxStreams: number;
  warmupS: number;
  windowS: number;
  model: string;
  labels: string;
  inferenceWorkers?: number;
  print(text: string): void;
  signal?: AbortSignal;
}

function parseStatsLine(line: string): RunStatsLine | undefined {
  if (!line.includes('"run stats"')) return undefined;
  try {
    const j = JSON.parse(line) as Partial<RunStatsLine> & { msg?: string };
    if (j.msg !== 'run stats' || !j.runId || typeof j.time !== 'number') return undefined;
    const n = (v: number | undefined) => v ?? 0;
    return {
      runId: j.runId,
      time: j.time,
      framesIn: n(j.framesIn),
      framesOut: n(j.framesOut),
      framesRepeated: n(j.framesRepeated),
      framesSlate: n(j.framesSlate),
      dropped: n(j.dropped),
      droppedEncoderBusy: n(j.droppedEncoderBusy),
    };
  } catch {
    return undefined;
  }
}

/** What a stream did between two of its stats lines. */
export function streamFigures(a: RunStatsLine, b: RunStatsLine): StreamFigures & { framesIn: number } {
  const seconds = (b.time - a.time) / 1000;
  const fresh = (s: RunStatsLine) => s.framesOut - s.framesRepeated - s.framesSlate;
  const framesIn = b.framesIn - a.framesIn;
  const lost = b.dropped + b.droppedEncoderBusy - (a.dropped + a.droppedEncoderBusy);
  return {
    fps: seconds > 0 ? (fresh(b) - fresh(a)) / seconds : 0,
    droppedPct: framesIn > 0 ? (100 * lost) / framesIn : 100,
    framesIn,
  };
}

/** Reads what was appended to a file since the last call. */
class FileTail {
  private offset = 0;
  private rest = '';
  constructor(private readonly path: string) {}

  read(): string {
    if (!existsSync(this.path)) return '';
    const fd = openSync(this.path, 'r');
    try {
      const size = fstatSync(fd).size;
      const buf = Buffer.alloc(size - this.offset);
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      const text = this.rest + buf.subarray(0, n).toString('utf8');
      const cut = text.lastIndexOf('\n') + 1;
      this.rest = text.slice(cut);
      return text.slice(0, cut);
    } finally {
      closeSync(fd);
    }
  }
}

async function runStates(pool: Pool, ids: string[]): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ id: string; state: string }>('SELECT id, state FROM runs WHERE id = ANY($1::uuid[])', [ids]);
  return new Map(rows.map((r) => [r.id, r.state]));
}

/**
 * How many live streams of one clip one engine holds in real time: a camera that costs nothing (`sie
 * camera --copy`, the clip's own H.264 packets, looping), one `sie engine` process, and runs added one
 * at a time until a stream no longer holds (HOLD_*) or maxStreams is reached. Each step: every run
 * running, a warm-up, then a window over which the engine's own counters, its tree's CPU and memory and
 * every output frame's latency are measured. One ffmpeg reads the first output, so packets are sent.
 */
export async function measureCapacity(o: CapacityOptions): Promise<CapacityTrial> {
  const tag = `${o.clip.label} every ${o.everyNthFrame === 1 ? 'frame' : `${o.everyNthFrame}rd frame`}`;
  const db = await createScratchDatabase('sie_bench', { max: 2, applicationName: 'sie-bench' });
  const tmp = mkdtempSync(join(tmpdir(), 'sie-bench-live-'));
  const children: Child[] = [];
  const latest = new Map<string, RunStatsLine>();
  const steps: CapacityStep[] = [];
  try {
    const cameraPort = await freePort();
    const camera = new Child(process.execPath, [SIE_MAIN, 'camera', o.clip.file, '--copy', '--port', String(cameraPort), '--host', '127.0.0.1', '--mount', 'cam']);
    children.push(camera);
    await camera.waitForLine(/^camera: /, 30_000, 'camera');

    const dataDir = join(tmp, 'data');
    const body = { inference: { confidence: 0.3, iou: 0.45, every_nth_frame: o.everyNthFrame }, rules: WALKWAY_RULES, drawing: {} };
    const configId = await insertModelAndConfig(db.pool, { dataDir, model: o.model, labels: o.labels, clientId: 'bench', body });
    const rtspPort = await freePort();
    const timingsPath = join(tmp, 'frame-timings.jsonl');
    const args = [SIE_MAIN, 'engine', '--max-runs', String(o.maxStreams), '--rtsp-port', String(rtspPort), '--rtsp-host', '127.0.0.1',
      '--advertise-host', '127.0.0.1', '--stats-interval', '1', '--frame-timings', timingsPath];
    if (o.inferenceWorkers !== undefined) args.push('--inference-workers', String(o.inferenceWorkers));
    const engine = new Child(process.execPath, args, {
      env: { SIE_DATABASE_URL: db.url, SIE_DATA_DIR: dataDir },
      onLine: (line) => {
        const s = parseStatsLine(line);
        if (s) latest.set(s.runId, s);
      },
      keep: 60,
    });
    children.push(engine);
    await engine.waitForLine(/^engine: /, 60_000, 'engine');
    const tail = new FileTail(timingsPath);

    const runIds: string[] = [];
    for (let k = 1; k <= o.maxStreams && !o.signal?.aborted; k++) {
      runIds.push(await insertRun(db.pool, { clientId: 'bench', configId, sourceUrl: `rtsp://127.0.0.1:${cameraPort}/cam`, mount: `bench-${k}` }));
      const readyBy = Date.now() + 60_000;
      for (;;) {
        const states = await runStates(db.pool, runIds);
        const newest = latest.get(runIds.at(-1)!);
        if (runIds.every((id) => states.get(id) === 'running') && (newest?.framesOut ?? 0) > 0) break;
        if (!engine.alive) throw new Error(`the engine exited:\n${engine.recent()}`);
        if (Date.now() > readyBy) throw new Error(`${tag}: ${k} runs not all running after 60 s: ${JSON.stringify(Object.fromEntries(states))}\n${engine.recent()}`);
        await sleep(250, o.signal);
      }
      if (k === 1) {
        const reader = new Child(resolveFfmpeg(), ['-hide_banner', '-loglevel', 'error', '-nostdin', '-rtsp_transport', 'tcp', '-i', `rtsp://127.0.0.1:${rtspPort}/bench-1`, '-c', 'copy', '-f', 'null', '-']);
        children.push(reader);
      }
      await sleep(o.warmupS * 1000, o.signal);
      tail.read(); // timings of the warm-up: not measured
      const a = runIds.map((id) => latest.get(id)!);
      const cpuA = treeCpuMs(engine.pid);
      await sleep(o.windowS * 1000, o.signal);
      const b = runIds.map((id) => latest.get(id)!);
      const cpuB = treeCpuMs(engine.pid);
      const [from, to] = [Math.min(...a.map((s) => s.time)), Math.max(...b.map((s) => s.time))];
      const lines: FrameTimingLine[] = parseFrameTimings(tail.read()).filter((t) => t.sentAtMs >= from && t.sentAtMs <= to);
      const per = runIds.map((_, i) => streamFigures(a[i]!, b[i]!));
      const framesIn = per.reduce((sum, s) => sum + s.framesIn, 0);
      const held = per.every((s) => s.fps >= HOLD_FPS_SHARE * o.clip.fps && s.droppedPct < HOLD_MAX_DROPPED_PCT);
      const step: CapacityStep = {
        streams: k,
        perStream: per.map(({ fps, droppedPct }) => ({ fps, droppedPct })),
        held,
        totalFps: per.reduce((sum, s) => sum + s.fps, 0),
        cpuMsPerFrame: framesIn > 0 ? (cpuB - cpuA) / framesIn : Number.NaN,
        rssMb: treeRssKb(engine.pid) / 1024,
        load: loadavg() as [number, number, number],
        latency: summariseLatency(lines),
      };
      steps.push(step);
      const worst = per.reduce((w, s) => (s.fps < w.fps ? s : w), per[0]!);
      o.print(
        `live ${tag}: ${k} stream(s) ${held ? 'held' : 'did NOT hold'}: slowest ${worst.fps.toFixed(1)} fps, ` +
          `dropped up to ${Math.max(...per.map((s) => s.droppedPct)).toFixed(1)}%, latency p50/p99 ${step.latency.endToEnd.p50.toFixed(0)}/${step.latency.endToEnd.p99.toFixed(0)} ms, ` +
          `${step.cpuMsPerFrame.toFixed(1)} CPU ms/frame, ${step.rssMb.toFixed(0)} MB, load ${formatLoad(step.load)}\n`,
      );
      if (!held) break;
    }
    const capacity = steps.filter((s, i) => s.held && steps.slice(0, i).every((p) => p.held)).length;
    return { clip: o.clip.label, everyNthFrame: o.everyNthFrame, capacity, reachedMax: capacity === o.maxStreams, steps };
  } finally {
    // The engine first (SIGTERM releases its runs), then the camera and the reader.
    for (const c of children.reverse()) await c.stop(40_000);
    await dropBenchDatabase(db, o.print);
    rmSync(tmp, { recursive: true, force: true });
  }
}
