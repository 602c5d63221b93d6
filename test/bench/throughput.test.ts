import { describe, expect, it } from 'vitest';
import { LABELS, MODEL, PLAZA, runSie } from '../helpers/media.js';
import type { ThroughputResult } from '../../src/bench/throughput.js';
import { formatThroughput } from '../../src/bench/throughputReport.js';

/**
 * `sie bench --quick --json` end to end (the compiled dist/: build first): real clips made with ffmpeg,
 * the real model, a real `sie replay`, a real engine with a camera and a temporary database. Only that
 * it completes and what it prints is whole and well formed: its figures depend on this machine's load
 * and are never asserted.
 */
describe('sie bench (throughput)', () => {
  it('--quick --json completes and prints one well-formed JSON object', async () => {
    const r = await runSie(['bench', '--quick', '--json', '--media', PLAZA, '--model', MODEL, '--labels', LABELS], {}, 180_000);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const result = JSON.parse(r.stdout) as ThroughputResult;
    expect(result.type).toBe('throughput');
    expect(result.quick).toBe(true);
    expect(result.machine.loadAtStart).toHaveLength(3);
    expect(result.clips).toHaveLength(1);
    const c = result.clips[0]!;
    expect(c.clip).toMatchObject({ label: '576p10', width: 768, height: 576 });
    for (const v of [c.limit.decodeMs, c.limit.inferenceMs, c.limit.encodeMs, c.limit.limitFps]) expect(v).toBeGreaterThan(0);
    expect(c.limit.sumMs).toBeCloseTo(c.limit.decodeMs + c.limit.inferenceMs + c.limit.encodeMs, 6);
    for (const f of [c.naive, c.replay]) {
      expect(f.frames).toBe(c.clip.frames);
      expect(f.fps).toBeGreaterThan(0);
      expect(f.cpuMsPerFrame).toBeGreaterThan(0);
      expect(f.peakRssMb).toBeGreaterThan(50);
    }
    expect(result.capacity).toHaveLength(1);
    const step = result.capacity[0]!.steps[0]!;
    expect(step.streams).toBe(1);
    expect(step.perStream).toHaveLength(1);
    expect(step.latency.frames).toBeGreaterThan(0);
    expect(Object.keys(step.latency.stages)).toEqual(['inference', 'rules', 'drawing', 'output']);
    expect(step.latency.endToEnd.p50).toBeGreaterThan(0);
    expect(step.latency.endToEnd.p99).toBeGreaterThanOrEqual(step.latency.endToEnd.p50);
    expect(result.latency.oneStream?.clip).toBe('576p10');
    // The human-readable report is built from the same object.
    const text = formatThroughput(result);
    expect(text).toContain('576p10');
    expect(text).toMatch(/naive loop/);
    expect(text).toMatch(/live capacity/);
  }, 200_000);

  it('a bad option is a usage error naming it', async () => {
    const r = await runSie(['bench', '--sizes', '4k']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--sizes/);
    const s = await runSie(['bench', '--soak', '--window', '5s']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/--window: not an option of sie bench --soak/);
  });
});
