import { describe, expect, it } from 'vitest';
import { parseFrameTimings, quantiles, summariseLatency, type FrameTimingLine } from '../../src/bench/latency.js';

/** The bench's latency figures from frame timings lines (pure: no engine here). */

function line(frameId: number, arrivedAtMs: number, parts: { inference: [number, number]; rules: [number, number]; drawing: [number, number] }, handWait: number, encode: number): FrameTimingLine {
  let t = arrivedAtMs;
  const stages = (['inference', 'rules', 'drawing'] as const).map((stage) => {
    const [waitMs, serviceMs] = parts[stage];
    const startedAtMs = t + waitMs;
    t = startedAtMs + serviceMs;
    return { stage, waitMs, serviceMs, startedAtMs };
  });
  const handedAtMs = t + handWait;
  return { runId: 'r', frameId, arrivedAtMs, stages, handedAtMs, sentAtMs: handedAtMs + encode };
}

describe('bench latency', () => {
  it('nearest-rank quantiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted
    expect(quantiles(values)).toEqual({ p50: 50, p90: 90, p99: 99 });
    expect(quantiles([7])).toEqual({ p50: 7, p90: 7, p99: 7 });
    expect(Number.isNaN(quantiles([]).p50)).toBe(true);
  });

  it('end to end is arrival to sent; output waits from drawing end to the hand-over, then encodes', () => {
    const lines = [
      line(0, 1000, { inference: [1, 20], rules: [0.5, 1], drawing: [0.2, 3] }, 10, 6),
      line(1, 1040, { inference: [3, 18], rules: [0.5, 1], drawing: [0.3, 2] }, 20, 5),
    ];
    const s = summariseLatency(lines);
    expect(s.frames).toBe(2);
    expect(s.endToEnd.p50).toBeCloseTo(1 + 20 + 0.5 + 1 + 0.2 + 3 + 10 + 6, 6);
    expect(s.endToEnd.p99).toBeCloseTo(3 + 18 + 0.5 + 1 + 0.3 + 2 + 20 + 5, 6);
    expect(Object.keys(s.stages)).toEqual(['inference', 'rules', 'drawing', 'output']);
    expect(s.stages.inference!.service).toEqual({ p50: 18, p90: 20, p99: 20 });
    expect(s.stages.output!.wait.p50).toBeCloseTo(10, 6);
    expect(s.stages.output!.wait.p99).toBeCloseTo(20, 6);
    expect(s.stages.output!.service.p50).toBeCloseTo(5, 6);
  });

  it('reads a file of lines, skipping a line cut short and lines that are not timings', () => {
    const a = line(0, 1000, { inference: [1, 20], rules: [0.5, 1], drawing: [0.2, 3] }, 10, 6);
    const text = `${JSON.stringify(a)}\n{"level":30,"msg":"x"}\n\n${JSON.stringify(a).slice(0, 20)}`;
    expect(parseFrameTimings(text)).toEqual([a]);
  });
});
