import { formatLoad } from './loadAverage.js';

/**
 * The soak's records (one JSON line each in the --out file) and the summary computed from them. Pure:
 * no I/O, so the arithmetic behind PASS/MISS is unit-tested on its own.
 */

export interface RunSample {
  runId: string;
  stream: number;
  /** The state in the runs table (what a user of the API sees). */
  state: string;
  /** Cumulative counters from the engine's last `run stats` line (0 before the first). */
  framesIn: number;
  framesOut: number;
  dropped: number;
  encoderBusy: number;
  slate: number;
  repeated: number;
  reconnects: number;
}

export interface Sample {
  type: 'sample';
  /** Seconds since the soak clock started (all runs running, readers attached). */
  tS: number;
  at: string;
  engine: { pid: number; rssKb: number; fds: number; children: number };
  /** os.loadavg() when the sample was taken. */
  load: [number, number, number];
  runs: RunSample[];
  totals: { framesIn: number; framesOut: number; dropped: number };
  readers: { alive: number; restarts: number };
  /** No outage in progress and every run running: the samples flatness is judged on. */
  steady: boolean;
}

export interface OutageRecord {
  type: 'outage';
  index: number;
  stream: number;
  runId: string;
  killedAtS: number;
  restartedAtS: number;
  /** The run went to `retrying` after the kill (the outage was noticed). */
  sawRetrying: boolean;
  /** When the run was `running` again (soak seconds), or null if it never came back in time. */
  runningAgainAtS: number | null;
  /** Every run was `running` once this outage was over. */
  allRunning: boolean;
}

export interface Goal {
  name: string;
  pass: boolean;
  detail: string;
}

export interface SoakSummary {
  type: 'summary';
  streams: number;
  durationS: number;
  warmupS: number;
  samples: number;
  rssKbWarmupEnd: number | null;
  rssKbEnd: number | null;
  rssGrowthPct: number | null;
  fdsAfterWarmup: { min: number; max: number } | null;
  childrenAfterWarmup: { min: number; max: number } | null;
  framesIn: number;
  framesOut: number;
  dropped: number;
  dropPct: number | null;
  outages: number;
  outagesRecovered: number;
  readerRestarts: number;
  load: { end: [number, number, number]; mean1m: number };
  engineCrashed: boolean;
  goals: Goal[];
}

export interface SummaryOptions {
  streams: number;
  durationS: number;
  /** End of warm-up in soak seconds: RSS growth and flatness are judged after it. */
  warmupS: number;
  engineCrashed: boolean;
  load: [number, number, number];
}

export const RSS_GROWTH_GOAL_PCT = 2;
export const DROP_GOAL_PCT = 1;
/** fds may move by a few (database pool connections come and go); a leak grows with every outage. */
export const fdTolerance = (min: number) => Math.max(4, Math.ceil(min * 0.05));

/**
 * How far the fds of the last third of the samples sit above those of the first third (medians): pool
 * connections opening and closing move single samples up and down by several, a leak lifts the late ones.
 */
function fdGrowth(fds: number[]): { early: number; late: number } | null {
  if (fds.length < 3) return null;
  const third = Math.ceil(fds.length / 3);
  return { early: median(fds.slice(0, third)), late: median(fds.slice(-third)) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function range(xs: number[]): { min: number; max: number } | null {
  return xs.length ? { min: Math.min(...xs), max: Math.max(...xs) } : null;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * RSS at warm-up end is the median of the samples around it (one before, the first at or after it, one
 * after), and at the end the median of the last three: one GC pause in a single sample cannot decide.
 */
function rssFigures(samples: Sample[], warmupS: number): { start: number; end: number } | null {
  const i = samples.findIndex((s) => s.tS >= warmupS);
  if (i < 0 || samples.length - i < 2) return null;
  const start = median(samples.slice(Math.max(0, i - 1), i + 2).map((s) => s.engine.rssKb));
  const end = median(samples.slice(Math.max(i + 1, samples.length - 3)).map((s) => s.engine.rssKb));
  return { start, end };
}

export function summarise(samples: Sample[], outages: OutageRecord[], o: SummaryOptions): SoakSummary {
  const after = samples.filter((s) => s.tS >= o.warmupS);
  const steadyAfter = after.filter((s) => s.steady);
  // Flatness is judged where nothing is expected to move; without such samples, on all after warm-up.
  const judged = steadyAfter.length >= 2 ? steadyAfter : after;
  const judgedOn = judged === steadyAfter ? 'steady samples' : 'all samples (too few steady ones)';
  const rss = rssFigures(samples, o.warmupS);
  const rssGrowthPct = rss ? round(((rss.end - rss.start) / rss.start) * 100) : null;
  const last = samples.at(-1);
  const totals = last?.totals ?? { framesIn: 0, framesOut: 0, dropped: 0 };
  const dropPct = totals.framesIn > 0 ? round((totals.dropped / totals.framesIn) * 100, 3) : null;
  const fdsJudged = range(judged.map((s) => s.engine.fds));
  const fdTrend = fdGrowth(judged.map((s) => s.engine.fds));
  const childrenJudged = range(judged.map((s) => s.engine.children));
  const recovered = outages.filter((x) => x.sawRetrying && x.runningAgainAtS !== null && x.allRunning).length;

  const goals: Goal[] = [
    {
      name: `RSS growth < ${RSS_GROWTH_GOAL_PCT}% after warm-up`,
      pass: rssGrowthPct !== null && rssGrowthPct < RSS_GROWTH_GOAL_PCT,
      detail: rss ? `${(rss.start / 1024).toFixed(1)} → ${(rss.end / 1024).toFixed(1)} MB (${rssGrowthPct}%)` : 'too few samples after warm-up',
    },
    {
      name: 'open fds flat after warm-up',
      pass: fdsJudged !== null && fdTrend !== null && fdTrend.late - fdTrend.early <= fdTolerance(fdsJudged.min),
      detail:
        fdsJudged && fdTrend
          ? `${fdsJudged.min}..${fdsJudged.max} on ${judgedOn}, median of the first third ${fdTrend.early}, of the last ${fdTrend.late} (tolerance ${fdTolerance(fdsJudged.min)})`
          : 'too few samples after warm-up',
    },
    {
      name: 'child processes flat after warm-up',
      pass: childrenJudged !== null && childrenJudged.max === childrenJudged.min,
      detail: childrenJudged ? `${childrenJudged.min}..${childrenJudged.max} on ${judgedOn}` : 'no samples after warm-up',
    },
    {
      name: `dropped frames < ${DROP_GOAL_PCT}%`,
      pass: dropPct !== null && dropPct < DROP_GOAL_PCT,
      detail: dropPct !== null ? `${totals.dropped} of ${totals.framesIn} (${dropPct}%)` : 'no frames counted',
    },
    {
      name: 'every run back to running after each outage',
      pass: recovered === outages.length && !o.engineCrashed,
      detail: `${recovered} of ${outages.length} outages recovered`,
    },
  ];

  return {
    type: 'summary',
    streams: o.streams,
    durationS: o.durationS,
    warmupS: o.warmupS,
    samples: samples.length,
    rssKbWarmupEnd: rss?.start ?? null,
    rssKbEnd: rss?.end ?? null,
    rssGrowthPct,
    fdsAfterWarmup: range(after.map((s) => s.engine.fds)),
    childrenAfterWarmup: range(after.map((s) => s.engine.children)),
    framesIn: totals.framesIn,
    framesOut: totals.framesOut,
    dropped: totals.dropped,
    dropPct,
    outages: outages.length,
    outagesRecovered: recovered,
    readerRestarts: last?.readers.restarts ?? 0,
    load: { end: o.load, mean1m: samples.length ? round(samples.reduce((a, s) => a + s.load[0], 0) / samples.length) : o.load[0] },
    engineCrashed: o.engineCrashed,
    goals,
  };
}

/** The human summary printed at the end. */
export function formatSummary(s: SoakSummary): string {
  const mb = (kb: number | null) => (kb === null ? '-' : `${(kb / 1024).toFixed(1)} MB`);
  const r = (x: { min: number; max: number } | null) => (x ? `${x.min}..${x.max}` : '-');
  const lines = [
    `soak: ${s.streams} streams, ${s.durationS} s, warm-up ${s.warmupS} s, ${s.samples} samples`,
    `  load average (end): ${formatLoad(s.load.end)}   mean 1-min load during the soak: ${s.load.mean1m.toFixed(2)}`,
    `  engine RSS: ${mb(s.rssKbWarmupEnd)} at warm-up end, ${mb(s.rssKbEnd)} at the end, growth ${s.rssGrowthPct ?? '-'}%`,
    `  engine fds after warm-up: ${r(s.fdsAfterWarmup)}   child processes after warm-up: ${r(s.childrenAfterWarmup)}`,
    `  frames in ${s.framesIn}, out ${s.framesOut}, dropped ${s.dropped} (${s.dropPct ?? '-'}%)`,
    `  outages: ${s.outages} done, ${s.outagesRecovered} with every run back to running; output reader restarts: ${s.readerRestarts}`,
  ];
  if (s.engineCrashed) lines.push('  THE ENGINE EXITED DURING THE SOAK');
  for (const g of s.goals) lines.push(`  ${g.pass ? 'PASS' : 'MISS'}  ${g.name}: ${g.detail}`);
  return `${lines.join('\n')}\n`;
}
