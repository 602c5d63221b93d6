import { describe, expect, it } from 'vitest';
import { formatSummary, summarise, type OutageRecord, type Sample } from '../../src/bench/soakReport.js';
import { parseDurationS } from '../../src/bench/duration.js';

/** Pure arithmetic behind the soak's PASS/MISS lines, on hand-made samples. */

function sample(tS: number, o: Partial<{ rssKb: number; fds: number; children: number; steady: boolean; framesIn: number; dropped: number }> = {}): Sample {
  return {
    type: 'sample',
    tS,
    at: new Date(tS * 1000).toISOString(),
    engine: { pid: 1, rssKb: o.rssKb ?? 200_000, fds: o.fds ?? 50, children: o.children ?? 8 },
    load: [1, 1, 1],
    runs: [],
    totals: { framesIn: o.framesIn ?? tS * 40, framesOut: tS * 40, dropped: o.dropped ?? 0 },
    readers: { alive: 4, restarts: 0 },
    steady: o.steady ?? true,
  };
}

const outage = (index: number, ok = true): OutageRecord => ({
  type: 'outage',
  index,
  stream: index % 4,
  runId: `r${index}`,
  killedAtS: 300 * (index + 1),
  restartedAtS: 300 * (index + 1) + 10,
  sawRetrying: true,
  runningAgainAtS: ok ? 300 * (index + 1) + 14 : null,
  allRunning: ok,
});

const opts = { streams: 4, durationS: 1800, warmupS: 600, engineCrashed: false, load: [1, 2, 3] as [number, number, number] };
const every10s = (f: (t: number) => Partial<Parameters<typeof sample>[1]>) => Array.from({ length: 181 }, (_, i) => sample(i * 10, f(i * 10)));
const goal = (s: ReturnType<typeof summarise>, prefix: string) => s.goals.find((g) => g.name.startsWith(prefix))!;

describe('soak summary', () => {
  it('flat RSS, fds and children with < 1% drops pass every goal', () => {
    const s = summarise(every10s(() => ({})), [0, 1, 2, 3, 4].map((i) => outage(i)), opts);
    expect(s.rssGrowthPct).toBe(0);
    expect(s.goals.map((g) => g.pass)).toEqual([true, true, true, true, true]);
    expect(s.outages).toBe(5);
    expect(s.outagesRecovered).toBe(5);
    expect(formatSummary(s)).toMatch(/PASS {2}RSS growth/);
  });

  it('RSS growing 3% over the last two thirds is a MISS; warm-up growth does not count', () => {
    // 150 → 200 MB during warm-up, then +3% linearly to the end.
    const s = summarise(every10s((t) => ({ rssKb: t < 600 ? 150_000 + (t / 600) * 50_000 : 200_000 * (1 + (0.03 * (t - 600)) / 1200) })), [], opts);
    expect(s.rssGrowthPct).toBeGreaterThan(2.5);
    expect(s.rssGrowthPct).toBeLessThan(3.1);
    expect(goal(s, 'RSS').pass).toBe(false);
    expect(formatSummary(s)).toMatch(/MISS {2}RSS growth/);
  });

  it('one sample inflated by a GC pause does not decide the RSS figure', () => {
    const s = summarise(every10s((t) => ({ rssKb: t === 1800 ? 260_000 : 200_000 })), [], opts);
    expect(s.rssGrowthPct).toBe(0);
  });

  it('children dipping during an outage (not steady) stay flat; one more child in steady samples is a leak', () => {
    const dip = summarise(every10s((t) => (t === 910 ? { children: 7, steady: false } : {})), [outage(2)], opts);
    expect(goal(dip, 'child').pass).toBe(true);
    expect(dip.childrenAfterWarmup).toEqual({ min: 7, max: 8 });
    const leak = summarise(every10s((t) => ({ children: t > 1200 ? 9 : 8 })), [], opts);
    expect(goal(leak, 'child').pass).toBe(false);
  });

  it('fds: a few pool connections coming and going are flat, one more per outage is not', () => {
    const jitter = summarise(every10s((t) => ({ fds: 50 + (t % 30 === 0 ? 2 : 0) })), [], opts);
    expect(goal(jitter, 'open fds').pass).toBe(true);
    const leak = summarise(every10s((t) => ({ fds: 50 + Math.floor(t / 300) * 2 })), [], opts);
    expect(goal(leak, 'open fds').pass).toBe(false);
    // What a 30-minute soak here showed: a pool swinging between 55 and 62 with no trend is flat.
    const swing = summarise(every10s((t) => ({ fds: 55 + ((t / 10) * 7) % 8 })), [], opts);
    expect(swing.fdsAfterWarmup).toEqual({ min: 55, max: 62 });
    expect(goal(swing, 'open fds').pass).toBe(true);
  });

  it('drop % is dropped over frames in, at the last sample', () => {
    const s = summarise(every10s((t) => ({ framesIn: t * 40, dropped: t * 0.8 })), [], opts);
    expect(s.dropPct).toBe(2);
    expect(goal(s, 'dropped').pass).toBe(false);
  });

  it('an outage after which a run did not come back, or an engine crash, fails the recovery goal', () => {
    expect(goal(summarise(every10s(() => ({})), [outage(0), outage(1, false)], opts), 'every run').pass).toBe(false);
    const crashed = summarise(every10s(() => ({})), [outage(0)], { ...opts, engineCrashed: true });
    expect(goal(crashed, 'every run').pass).toBe(false);
    expect(formatSummary(crashed)).toMatch(/ENGINE EXITED/);
  });

  it('too few samples give MISS with a reason, not a number made up', () => {
    const s = summarise([sample(0)], [], opts);
    expect(s.rssGrowthPct).toBeNull();
    expect(goal(s, 'RSS')).toMatchObject({ pass: false, detail: 'too few samples after warm-up' });
  });
});

describe('durations', () => {
  it('take s, m and h, seconds without a unit', () => {
    expect(parseDurationS('30m')).toBe(1800);
    expect(parseDurationS('10s')).toBe(10);
    expect(parseDurationS('90')).toBe(90);
    expect(parseDurationS('1.5m')).toBe(90);
    expect(parseDurationS('1h')).toBe(3600);
    expect(parseDurationS('5x')).toBeUndefined();
    expect(parseDurationS('-1s')).toBeUndefined();
  });
});
