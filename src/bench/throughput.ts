import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareClip, type BenchClip, type ClipSize } from './clips.js';
import { measureLimit, type StageLimit } from './limit.js';
import { measureNaiveLoop, measureReplay, type PipelineFigures } from './fileRuns.js';
import { measureCapacity, type CapacityStep, type CapacityTrial } from './liveCapacity.js';
import { WALKWAY_RULES } from './benchSetup.js';
import type { LatencySummary } from './latency.js';

export interface ThroughputOptions {
  media: string;
  model: string;
  labels: string;
  /** Clips measured in a file pipeline (limit, naive loop, replay). */
  sizes: ClipSize[];
  /** Clips whose live capacity is found, at each of everyNth. */
  liveSizes: ClipSize[];
  everyNth: number[];
  maxStreams: number;
  warmupS: number;
  windowS: number;
  /** Length of the 720p/1080p clips; the source's own size is `ownClipS` long. */
  clipS: number;
  ownClipS: number;
  /** Runs of the model in the limit's inference-alone measure. */
  inferenceRuns: number;
  inferenceWorkers?: number;
  quick: boolean;
  print(text: string): void;
  signal?: AbortSignal;
}

export interface LiveFigures extends PipelineFigures {
  streams: number;
}

export interface ClipResult {
  clip: Pick<BenchClip, 'label' | 'width' | 'height' | 'fps' | 'frames'>;
  limit: StageLimit;
  naive: PipelineFigures;
  replay: PipelineFigures;
  /** At capacity with detection on every frame (undefined when this clip's capacity was not measured). */
  live?: LiveFigures;
}

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean;
}

export interface ThroughputResult {
  type: 'throughput';
  quick: boolean;
  machine: { cores: number; cpu: string; node: string; loadAtStart: number[]; loadAtEnd: number[] };
  clips: ClipResult[];
  capacity: CapacityTrial[];
  latency: {
    /** One stream of the first live clip, detection on every frame (720p25 in a full run). */
    oneStream?: { clip: string; summary: LatencySummary };
    atCapacity: { clip: string; everyNthFrame: number; streams: number; summary: LatencySummary }[];
  };
  /** RSS added per stream (engine + both ffmpeg), from the first to the last step of a trial. */
  rssPerStreamMb: { clip: string; everyNthFrame: number; mb: number }[];
  targets: TargetCheck[];
}

/** The last step of a trial that held, else its first: "at capacity". */
export function atCapacity(t: CapacityTrial): CapacityStep | undefined {
  return t.steps[Math.max(0, t.capacity - 1)];
}

function targetChecks(r: Omit<ThroughputResult, 'targets'>): TargetCheck[] {
  const out: TargetCheck[] = [];
  const c1080 = r.clips.find((c) => c.clip.label === '1080p25');
  if (c1080) {
    out.push({ target: 'file pipeline at 1080p ≥ 0.85 × limit_fps', measured: `${c1080.replay.ratioToLimit.toFixed(2)} × (${c1080.replay.fps.toFixed(1)} of ${c1080.limit.limitFps.toFixed(1)} fps)`, met: c1080.replay.ratioToLimit >= 0.85 });
    const x = c1080.replay.fps / c1080.naive.fps;
    out.push({ target: 'file pipeline at 1080p ≥ 5 × the naive loop', measured: `${x.toFixed(2)} ×`, met: x >= 5 });
  }
  for (const [nth, want] of [[1, 4], [3, 6]] as const) {
    const t = r.capacity.find((c) => c.clip === '1080p25' && c.everyNthFrame === nth);
    if (t) out.push({ target: `live 1080p25 streams detecting every ${nth === 1 ? 'frame' : '3rd frame'} ≥ ${want}`, measured: `${t.capacity}${t.reachedMax ? '+' : ''}`, met: t.capacity >= want });
  }
  const one = r.latency.oneStream;
  if (one && one.clip === '720p25') {
    const q = one.summary.endToEnd;
    out.push({ target: 'one live 720p25 stream: latency p50 ≤ 60 ms', measured: `${q.p50.toFixed(1)} ms`, met: q.p50 <= 60 });
    out.push({ target: 'one live 720p25 stream: latency p99 ≤ 150 ms', measured: `${q.p99.toFixed(1)} ms`, met: q.p99 <= 150 });
  }
  for (const a of r.latency.atCapacity) {
    const p99 = a.summary.endToEnd.p99;
    out.push({ target: `at capacity (${a.clip}, every ${a.everyNthFrame === 1 ? 'frame' : `${a.everyNthFrame}rd`}, ${a.streams} streams): latency p99 ≤ 300 ms`, measured: `${p99.toFixed(1)} ms`, met: p99 <= 300 });
  }
  for (const m of r.rssPerStreamMb.filter((x) => x.clip === '1080p25')) {
    out.push({ target: `each extra 1080p stream ≤ 250 MB RSS (every ${m.everyNthFrame === 1 ? 'frame' : `${m.everyNthFrame}rd`})`, measured: `${m.mb.toFixed(0)} MB`, met: m.mb <= 250 });
  }
  return out;
}

/**
 * `sie bench`: on clips made from one source, the per-stage limit, the naive loop, `sie replay` and live
 * runs, then how many live streams one engine holds, with every output frame's latency. Everything is
 * run one after the other (each measure alone on the machine), in processes of their own where memory
 * or a whole tree's CPU is measured.
 */
export async function runThroughputBench(o: ThroughputOptions): Promise<ThroughputResult> {
  const cores = availableParallelism();
  const loadAtStart = loadavg();
  const tmp = mkdtempSync(join(tmpdir(), 'sie-bench-'));
  try {
    const config = join(tmp, 'rules.json');
    writeFileSync(config, JSON.stringify({ name: 'bench', inference: { confidence: 0.3, iou: 0.45 }, rules: WALKWAY_RULES, drawing: {} }));
    const clipsBySize = new Map<ClipSize, BenchClip>();
    const clipOf = async (size: ClipSize) => {
      let c = clipsBySize.get(size);
      if (!c) {
        o.print(`bench: preparing the ${size} clip (kept for the next run)\n`);
        c = await prepareClip(o.media, size, size === 'own' ? o.ownClipS : o.clipS);
        clipsBySize.set(size, c);
      }
      return c;
    };

    const clips: ClipResult[] = [];
    for (const size of o.sizes) {
      if (o.signal?.aborted) break;
      const clip = await clipOf(size);
      o.print(`bench: ${clip.label} (${clip.frames} frames): the limit…\n`);
      const limit = await measureLimit(clip, { model: o.model, cores, inferenceRuns: o.inferenceRuns, keepFrames: Math.min(clip.frames, 25) });
      const run = { model: o.model, labels: o.labels, config, tmpDir: tmp, limitFps: limit.limitFps, inferenceWorkers: o.inferenceWorkers };
      o.print(`bench: ${clip.label}: the naive loop…\n`);
      const naive = await measureNaiveLoop(clip, run);
      o.print(`bench: ${clip.label}: sie replay…\n`);
      const replay = await measureReplay(clip, run);
      const { label, width, height, fps, frames } = clip;
      clips.push({ clip: { label, width, height, fps, frames }, limit, naive, replay });
    }

    const capacity: CapacityTrial[] = [];
    for (const size of o.liveSizes) {
      for (const nth of o.everyNth) {
        if (o.signal?.aborted) break;
        const clip = await clipOf(size);
        capacity.push(
          await measureCapacity({
            clip,
            everyNthFrame: nth,
            maxStreams: o.maxStreams,
            warmupS: o.warmupS,
            windowS: o.windowS,
            model: o.model,
            labels: o.labels,
            inferenceWorkers: o.inferenceWorkers,
            print: o.print,
            signal: o.signal,
          }),
        );
      }
    }

    // The live row of a clip's table: its every-frame trial at capacity, against that clip's limit.
    for (const c of clips) {
      const t = capacity.find((x) => x.clip === c.clip.label && x.everyNthFrame === 1);
      const s = t && atCapacity(t);
      if (s) c.live = { streams: s.streams, fps: s.totalFps, cpuMsPerFrame: s.cpuMsPerFrame, ratioToLimit: s.totalFps / c.limit.limitFps, peakRssMb: s.rssMb, frames: 0 };
    }
    const firstEvery = capacity.find((t) => t.everyNthFrame === 1);
    const partial: Omit<ThroughputResult, 'targets'> = {
      type: 'throughput',
      quick: o.quick,
      machine: { cores, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, loadAtStart, loadAtEnd: loadavg() },
      clips,
      capacity,
      latency: {
        oneStream: firstEvery?.steps[0] && { clip: firstEvery.clip, summary: firstEvery.steps[0].latency },
        atCapacity: capacity.flatMap((t) => {
          const s = atCapacity(t);
          return s ? [{ clip: t.clip, everyNthFrame: t.everyNthFrame, streams: s.streams, summary: s.latency }] : [];
        }),
      },
      rssPerStreamMb: capacity.flatMap((t) =>
        t.steps.length >= 2 ? [{ clip: t.clip, everyNthFrame: t.everyNthFrame, mb: (t.steps.at(-1)!.rssMb - t.steps[0]!.rssMb) / (t.steps.length - 1) }] : [],
      ),
    };
    return { ...partial, targets: targetChecks(partial) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
