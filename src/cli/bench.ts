import { existsSync, writeFileSync } from 'node:fs';
import { runScaleTest } from '../bench/scale.js';
import { formatScale, scaleTargets } from '../bench/scaleReport.js';
import { resolve } from 'node:path';
import { z } from 'zod';
import { durationSchema } from '../bench/duration.js';
import { runSoak } from '../bench/soak.js';
import { runThroughputBench } from '../bench/throughput.js';
import { formatThroughput } from '../bench/throughputReport.js';
import { CLIP_SIZES } from '../bench/clips.js';
import { killAllChildren } from '../bench/children.js';
import { DEFAULT_TRUTH_DIR, formatAccuracy, runAccuracyBench } from '../bench/accuracy.js';
import { DEFAULT_TOLERANCE_FRAMES } from '../accuracy/score.js';
import { constants } from 'node:os';
import { UsageError, help, inferenceOptionsShape, parseOptions } from './args.js';
import { defineCommand } from './command.js';

const shared = () => resolve(process.env.SIE_SHARED ?? '../shared');

const THROUGHPUT = 'Throughput and capacity (the default mode):';
const SOAK = 'Soak (--soak):';
const ACCURACY = 'Accuracy (--accuracy):';
const SCALE = 'Scale (--scale):';
const COMMON = 'Every mode:';

const inGroup = (group: string, h: ReturnType<typeof help>) => ({ ...h, group });
const fileOption = (what: string, shared: string) =>
  z.string().min(1).refine(existsSync, 'file not found').optional().meta(inGroup(COMMON, help(what, 'FILE', `$SIE_SHARED/${shared}`)));

/** A comma-separated list, each item checked by `item`; duplicates removed, order kept. */
const listOf = <O>(item: z.ZodType<O, string>) =>
  z
    .string()
    .transform((s) => [...new Set(s.split(',').map((x) => x.trim()).filter(Boolean))])
    .pipe(z.array(item).min(1, 'give at least one'));

/**
 * Every option of the three modes, with its help; which mode takes which is the mode's schema below
 * (strict: an option of another mode is an error, not silently ignored).
 */
const benchOptions = {
  quick: z.boolean().default(false).meta(inGroup(THROUGHPUT, help("the source's own size only, 3 s clips, one live stream: under a minute, rough figures (make test)"))),
  sizes: listOf(z.enum(CLIP_SIZES)).optional().meta(inGroup(THROUGHPUT, help('clip sizes measured, comma-separated: own, 720p, 1080p', 'LIST', 'own,720p,1080p; --quick: own'))),
  'live-sizes': listOf(z.enum(CLIP_SIZES)).optional().meta(inGroup(THROUGHPUT, help('clip sizes of the live capacity test', 'LIST', '720p,1080p; --quick: own'))),
  'every-nth': listOf(z.string().regex(/^\d+$/, 'expected whole numbers').transform(Number).pipe(z.number().int().min(1).max(30)))
    .optional()
    .meta(inGroup(THROUGHPUT, help('live capacity detecting on every Nth frame, for each N listed', 'LIST', '1,3; --quick: 1'))),
  'max-streams': z.coerce.number().int().min(1).max(32).default(8).meta(inGroup(THROUGHPUT, help('the most live streams tried (--quick: 1)', 'N'))),
  warmup: durationSchema.optional().meta(inGroup(THROUGHPUT, help('warm-up before each live measure', 'DURATION', '5s; --quick: 2s'))),
  window: durationSchema.optional().meta(inGroup(THROUGHPUT, help('length of each live measure', 'DURATION', '15s; --quick: 3s'))),
  'inference-workers': inferenceOptionsShape['inference-workers'].meta(
    inGroup(THROUGHPUT, help('worker threads that run the model in the live engine', 'N', "the machine's cores")),
  ),
  soak: z.boolean().optional().meta(inGroup(SOAK, help('run the soak instead of the throughput bench'))),
  streams: z.coerce.number().int().min(1).max(32).default(4).meta(inGroup(SOAK, help('simulated cameras, one run each', 'N'))),
  duration: durationSchema.default(30 * 60).meta(inGroup(SOAK, help('how long the soak lasts', 'DURATION', '30m'))),
  'outage-every': durationSchema.default(5 * 60).meta(inGroup(SOAK, help('one camera is killed and restarted this often', 'DURATION', '5m'))),
  'outage-length': durationSchema.default(10).meta(inGroup(SOAK, help('how long a killed camera stays away (shorter than --outage-every)', 'DURATION', '10s'))),
  'sample-every': durationSchema.default(10).meta(inGroup(SOAK, help("how often the engine's RSS, fds, children and frames are sampled", 'DURATION', '10s'))),
  out: z.string().min(1).default('soak.jsonl').meta(inGroup(SOAK, help('the samples, outages and summary, as JSON lines', 'FILE'))),
  accuracy: z.boolean().optional().meta(inGroup(ACCURACY, help('score replayed events against the hand-verified truths instead'))),
  truth: z
    .string()
    .min(1)
    .refine(existsSync, 'folder not found')
    .optional()
    .meta(inGroup(ACCURACY, help('the folder of truth files (schema in its README)', 'DIR', 'test/fixtures/truth'))),
  clips: listOf(z.string().min(1)).optional().meta(inGroup(ACCURACY, help('only these clips of $SIE_SHARED/media, comma-separated', 'LIST', 'every clip with a truth'))),
  tolerance: z.coerce
    .number()
    .int()
    .min(0)
    .max(100)
    .default(DEFAULT_TOLERANCE_FRAMES)
    .meta(inGroup(ACCURACY, help('an event matches a true one within this many frames either way', 'FRAMES'))),
  scale: z.boolean().optional().meta(inGroup(SCALE, help('test the control plane at scale instead: dry engines on a private PostgreSQL'))),
  engines: z.coerce.number().int().min(5).max(1000).default(200).meta(inGroup(SCALE, help('dry engines (sie engine --dry)', 'N'))),
  processes: z.coerce.number().int().min(5).max(100).default(20).meta(inGroup(SCALE, help('processes they run in (one holds a single engine: the paused one)', 'N'))),
  runs: z.coerce.number().int().min(10).max(100_000).default(10_000).meta(inGroup(SCALE, help('runs inserted at once', 'N'))),
  'lease-ttl': z.coerce.number().min(1).max(600).default(10).meta(inGroup(SCALE, help("the engines' lease, seconds", 'S'))),
  'poll-interval': z.coerce.number().min(0.1).max(60).default(1).meta(inGroup(SCALE, help("the engines' poll interval, seconds", 'S'))),
  steady: durationSchema.default(30).meta(inGroup(SCALE, help('the steady phase: PostgreSQL CPU, connections, claim latency', 'DURATION', '30s'))),
  churn: z.coerce.number().min(0.5).max(100).default(10).meta(inGroup(SCALE, help('runs inserted and as many stopped per second in the steady phase', 'N'))),
  'write-every': z.coerce.number().min(0).max(3600).default(30).meta(inGroup(SCALE, help("each held run writes its counters every S seconds (a real run's, when they change)", 'S'))),
  report: z.string().min(1).default('scale.json').meta(inGroup(SCALE, help('the figures, as one JSON object', 'FILE'))),
  json: z.boolean().default(false).meta(inGroup(COMMON, help('print one JSON object instead of the tables (progress on stderr); not with --soak'))),
  media: fileOption('the clip the throughput clips and the soak cameras are made from', 'media/plaza-pedestrians.mp4'),
  model: fileOption('the ONNX detection model', 'models/yolox_nano.onnx'),
  labels: fileOption("the model's class names", 'models/coco_classes.txt'),
};
const b = benchOptions;

const soakSchema = z
  .object({
    soak: z.literal(true),
    streams: b.streams,
    duration: b.duration,
    'outage-every': b['outage-every'],
    'outage-length': b['outage-length'],
    'sample-every': b['sample-every'],
    out: b.out,
    media: b.media,
    model: b.model,
    labels: b.labels,
  })
  .strict()
  .refine((o) => o['outage-length'] < o['outage-every'], { message: 'must be shorter than --outage-every', path: ['outage-length'] });

const throughputSchema = z
  .object({
    quick: b.quick,
    json: b.json,
    sizes: b.sizes,
    'live-sizes': b['live-sizes'],
    'every-nth': b['every-nth'],
    'max-streams': b['max-streams'],
    warmup: b.warmup,
    window: b.window,
    'inference-workers': b['inference-workers'],
    media: b.media,
    model: b.model,
    labels: b.labels,
  })
  .strict();

const accuracySchema = z
  .object({
    accuracy: z.literal(true),
    json: b.json,
    truth: b.truth,
    clips: b.clips,
    tolerance: b.tolerance,
    model: b.model,
    labels: b.labels,
  })
  .strict();

const scaleSchema = z
  .object({
    scale: z.literal(true),
    json: b.json,
    engines: b.engines,
    processes: b.processes,
    runs: b.runs,
    'lease-ttl': b['lease-ttl'],
    'poll-interval': b['poll-interval'],
    steady: b.steady,
    churn: b.churn,
    'write-every': b['write-every'],
    report: b.report,
  })
  .strict()
  .refine((o) => o.engines >= o.processes, { message: 'at least one engine per process', path: ['engines'] });

type BenchMode =
  | { mode: 'scale'; o: z.output<typeof scaleSchema> }
  | { mode: 'accuracy'; o: z.output<typeof accuracySchema> }
  | { mode: 'soak'; o: z.output<typeof soakSchema> }
  | { mode: 'throughput'; o: z.output<typeof throughputSchema> };

export const benchCommandSpec = defineCommand({
  name: 'bench',
  summary: 'measures the engine: throughput and capacity, a soak (--soak), accuracy (--accuracy), the control plane (--scale)',
  description:
    'Measures the engine, in one of four modes (below). Run it on a quiet machine: anything else running halves the ' +
    'figures on 2 cores. Each mode prints its tables and PASS/MISS per target, and exits 0 whatever the targets. ' +
    'Ctrl-C ends it early; a second Ctrl-C kills every child at once and exits (the temporary database is left).',
  options: z.object(benchOptions),
  parse: (raw): BenchMode => {
    if (raw.scale) return { mode: 'scale', o: strictParse(scaleSchema, raw, 'sie bench --scale') };
    if (raw.accuracy) return { mode: 'accuracy', o: strictParse(accuracySchema, raw, 'sie bench --accuracy') };
    if (raw.soak) return { mode: 'soak', o: strictParse(soakSchema, raw, 'sie bench --soak') };
    return { mode: 'throughput', o: strictParse(throughputSchema, raw, 'the throughput bench') };
  },
  notes: [
    {
      heading: 'Modes:',
      items: [
        [
          '(default)',
          'throughput and capacity, on clips made from --media with ffmpeg (its own size, 720p25 and 1080p25; kept in ' +
            'the temp folder for the next run), each measure alone, one after the other: the limit (CPU ms per frame of ' +
            'decode, inference and encode alone; cores / their sum = limit fps), the naive loop (read, detect, draw, ' +
            'write, nothing overlapping), sie replay writing the video, and live: how many streams of --live-sizes one ' +
            'sie engine holds (new frames at >= 98% of the rate, < 1% dropped) detecting on each of --every-nth, found ' +
            "by adding runs one at a time (cameras: sie camera --copy; a temporary database on SIE_DATABASE_URL's " +
            "server, dropped at the end), with every output frame's latency from arrival to the RTSP mount, end to end " +
            'and per stage (p50/p90/p99). Prints tables and the load average.',
        ],
        [
          '--soak',
          'N simulated cameras (sie camera, 576p at 10 fps from --media) and one sie engine process running one run ' +
            'per camera from a temporary database (dropped at the end), an RTSP reader on every output, one camera ' +
            "killed and restarted on its port every --outage-every. Every --sample-every: the engine's RSS, open fds, " +
            'child processes and frames in/out/dropped, as JSON lines to --out (then each outage, then the summary). At ' +
            'the end: RSS at warm-up end (the first third) and at the end, fds and children after warm-up, drop %, ' +
            'outages and whether every run came back to running, and PASS/MISS per goal (RSS growth < 2%, fds and ' +
            'children flat, drops < 1%). Exits 1 if the engine died under it.',
        ],
        [
          '--accuracy',
          'replays every clip of $SIE_SHARED/media that has a hand-verified truth in --truth with the fixture config ' +
            'the truth names, and scores the events one-to-one against it within --tolerance frames either way, line ' +
            'crossings per direction: truth, engine, matched, missed, false alarms, recall and precision per rule and ' +
            "clip, then the frames of each miss and false alarm. Its figures do not depend on the machine's load.",
        ],
        [
          '--scale',
          'the control plane at scale (README, Scale): a private PostgreSQL (initdb on a free port; needs the ' +
            'postgres OS user), --engines dry engines in --processes processes, then --runs runs inserted at once, a ' +
            'steady phase of single runs coming and going, SIGKILL of two processes, SIGTERM drain of one, SIGSTOP of ' +
            'one engine past its lease then SIGCONT, a PostgreSQL restart. Prints claim latency, recovery times, ' +
            "PostgreSQL's CPU, connections per engine, dead tuples and an audit (no run epoch with two holders), with " +
            'PASS/MISS per target; writes --report.',
        ],
      ],
      text: 'Durations take s, m or h (90s, 30m, 1h).',
    },
  ],
  environment: ['SIE_SHARED', 'SIE_DATABASE_URL', 'SIE_LOG_LEVEL', 'SIE_LOG_FORMAT'],
  examples: [
    '# a rough figure in under a minute',
    'sie bench --quick',
    '# a 2-hour soak of 8 cameras',
    'sie bench --soak --streams 8 --duration 2h --out soak.jsonl',
    '# the control plane: 200 dry engines, 10,000 runs (make scale-test)',
    'sie bench --scale --report scale.json',
    '# accuracy on one clip, as JSON',
    'sie bench --accuracy --clips plaza-pedestrians.mp4 --json',
  ],
  run: (m) => benchCommand(m),
});

function sharedFiles(o: { media?: string; model?: string; labels?: string }) {
  const files = {
    media: o.media ?? `${shared()}/media/plaza-pedestrians.mp4`,
    model: o.model ?? `${shared()}/models/yolox_nano.onnx`,
    labels: o.labels ?? `${shared()}/models/coco_classes.txt`,
  };
  for (const [name, path] of Object.entries(files)) if (!existsSync(path)) throw new UsageError(`--${name}: ${path} not found`);
  return files;
}

/** An option that belongs to the other mode reads as a mistake, not as something silently ignored. */
function strictParse<T extends z.ZodType>(schema: T, raw: Record<string, unknown>, mode: string): z.infer<T> {
  try {
    return parseOptions(schema, raw);
  } catch (err) {
    if (err instanceof UsageError && /^--: Unrecognized key/.test(err.message)) {
      const keys = [...err.message.matchAll(/"([^"]+)"/g)].map((m) => `--${m[1]}`);
      throw new UsageError(`${keys.join(', ')}: not an option of ${mode}`);
    }
    throw err;
  }
}

async function benchCommand(m: BenchMode): Promise<number> {
  const abort = new AbortController();
  if (m.mode === 'scale') {
    const o = m.o;
    const result = await runScaleTest({
      engines: o.engines,
      processes: o.processes,
      runs: o.runs,
      leaseTtlS: o['lease-ttl'],
      pollIntervalS: o['poll-interval'],
      steadyS: o.steady,
      churnPerS: o.churn,
      writeEveryS: o['write-every'],
      headroom: 1.25,
      progress: (line) => process.stderr.write(`${line}\n`),
    });
    const report = { ...result, targets: scaleTargets(result) };
    writeFileSync(o.report, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : `${formatScale(result)}\nreport: ${o.report}\n`);
    return 0;
  }
  if (m.mode === 'accuracy') {
    const o = m.o;
    const { model, labels } = sharedFiles(o);
    const result = await runAccuracyBench({
      truthDir: resolve(o.truth ?? DEFAULT_TRUTH_DIR),
      mediaDir: `${shared()}/media`,
      model,
      labels,
      toleranceFrames: o.tolerance,
      clips: o.clips,
      print: (t) => process.stderr.write(t),
    });
    process.stdout.write(o.json ? `${JSON.stringify(result)}\n` : formatAccuracy(result));
    return 0;
  }
  if (m.mode === 'soak') {
    const o = m.o;
    const files = sharedFiles(o);
    const uninstall = stopOnSignals(abort);
    try {
      const { exitCode } = await runSoak(
        {
          streams: o.streams,
          durationS: o.duration,
          outageEveryS: o['outage-every'],
          outageLengthS: o['outage-length'],
          sampleEveryS: o['sample-every'],
          out: resolve(o.out),
          ...files,
        },
        { print: (t) => process.stdout.write(t), signal: abort.signal },
      );
      return exitCode;
    } finally {
      uninstall();
    }
  }
  const o = m.o;
  const files = sharedFiles(o);
  // With --json, stdout carries the one JSON object and nothing else.
  const print = (t: string) => (o.json ? process.stderr : process.stdout).write(t);
  const uninstall = stopOnSignals(abort, { killAll: killAllChildren, write: print, exit: (c) => process.exit(c) });
  try {
    const result = await runThroughputBench({
      ...files,
      sizes: o.sizes ?? (o.quick ? ['own'] : [...CLIP_SIZES]),
      liveSizes: o['live-sizes'] ?? (o.quick ? ['own'] : ['720p', '1080p']),
      everyNth: o['every-nth'] ?? (o.quick ? [1] : [1, 3]),
      maxStreams: o.quick ? Math.min(o['max-streams'], 1) : o['max-streams'],
      warmupS: o.warmup ?? (o.quick ? 2 : 5),
      windowS: o.window ?? (o.quick ? 3 : 15),
      clipS: o.quick ? 3 : 20,
      ownClipS: o.quick ? 3 : 30,
      inferenceRuns: o.quick ? 10 : 100,
      inferenceWorkers: o['inference-workers'],
      quick: o.quick,
      print,
      signal: abort.signal,
    });
    if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else process.stdout.write(formatThroughput(result));
    return 0;
  } finally {
    uninstall();
  }
}

export interface HardStop {
  /** Kills every child process at once; returns how many there were (default killAllChildren). */
  killAll(): number;
  write(text: string): void;
  exit(code: number): void;
}

/**
 * SIGINT / SIGTERM during a soak. The first ends it early: it stops the readers, the engine (which
 * releases its runs) and the cameras in order, then drops its database. That can take a while (the
 * engine's drain waits up to 30 s), so a second one kills every child's process group at once and exits.
 * The handler stays installed until the soak ends: with `once`, a second Ctrl-C would find no handler and
 * kill the soak alone, leaving the engine, cameras and readers (in process groups of their own, which the
 * terminal's signal does not reach) running, and the temporary database behind.
 */
export function stopOnSignals(
  abort: AbortController,
  hard: HardStop = { killAll: killAllChildren, write: (t) => process.stdout.write(t), exit: (c) => process.exit(c) },
  target: Pick<NodeJS.EventEmitter, 'on' | 'off'> = process,
): () => void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received++;
    if (received === 1) {
      hard.write(`bench: ${signal}: stopping early (send it again to kill everything at once)\n`);
      abort.abort();
      return;
    }
    const n = hard.killAll();
    hard.write(
      `bench: ${signal} again: killed ${n} child process group(s) with SIGKILL and exiting; the temporary database ` +
        'and temp dir (named above) are NOT dropped: remove them by hand\n',
    );
    hard.exit(128 + (constants.signals[signal] ?? 2));
  };
  target.on('SIGINT', onSignal);
  target.on('SIGTERM', onSignal);
  return () => {
    target.off('SIGINT', onSignal);
    target.off('SIGTERM', onSignal);
  };
}
