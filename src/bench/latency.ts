import type { FrameOutputTiming } from '../pipeline/frameTimings.js';

/**
 * Per-frame latency from the engine's frame timings (`sie engine --frame-timings FILE`, one JSON line per
 * output frame): from the frame's arrival on our side of ffmpeg #1's pipe to its access unit handed to
 * the RTSP mount (its packets written to every reader's socket), end to end and per stage.
 */

/** One line of the frame timings file (src/pipeline/frameTimings.ts writes them). */
export type FrameTimingLine = FrameOutputTiming;

export interface Quantiles {
  p50: number;
  p90: number;
  p99: number;
}

export interface LatencySummary {
  frames: number;
  endToEnd: Quantiles;
  /** Per stage: waiting for it (queue) and working on the frame. `output` waits from drawing's end until
   *  ffmpeg #2 takes the frame (the output clock's tick) and its service is encoding up to the mount. */
  stages: Record<string, { wait: Quantiles; service: Quantiles }>;
}

/** Nearest-rank quantile of sorted values. */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function quantiles(values: readonly number[]): Quantiles {
  const s = [...values].sort((a, b) => a - b);
  return { p50: quantile(s, 0.5), p90: quantile(s, 0.9), p99: quantile(s, 0.99) };
}

/** Parses the lines of a frame timings file; lines that are not timings (a partial last line) are skipped. */
export function parseFrameTimings(text: string): FrameTimingLine[] {
  const out: FrameTimingLine[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const t = JSON.parse(line) as Partial<FrameTimingLine>;
      if (typeof t.sentAtMs === 'number' && typeof t.arrivedAtMs === 'number' && typeof t.handedAtMs === 'number' && Array.isArray(t.stages)) {
        out.push(t as FrameTimingLine);
      }
    } catch {
      // a line cut short by the reader's timing: the next read has it whole
    }
  }
  return out;
}

export function summariseLatency(lines: readonly FrameTimingLine[]): LatencySummary {
  const byStage = new Map<string, { wait: number[]; service: number[] }>();
  const add = (stage: string, wait: number, service: number) => {
    const e = byStage.get(stage) ?? { wait: [], service: [] };
    e.wait.push(wait);
    e.service.push(service);
    byStage.set(stage, e);
  };
  for (const t of lines) {
    let end = t.arrivedAtMs;
    for (const s of t.stages) {
      add(s.stage, s.waitMs, s.serviceMs);
      end = s.startedAtMs + s.serviceMs;
    }
    add('output', t.handedAtMs - end, t.sentAtMs - t.handedAtMs);
  }
  const stages: LatencySummary['stages'] = {};
  for (const [stage, e] of byStage) stages[stage] = { wait: quantiles(e.wait), service: quantiles(e.service) };
  return { frames: lines.length, endToEnd: quantiles(lines.map((t) => t.sentAtMs - t.arrivedAtMs)), stages };
}
