import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
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
import { UsageError, inferenceOptionsShape, parseOptions } from './args.js';

const shared = () => resolve(process.env.SIE_SHARED ?? '../shared');

export const benchUsage = `sie bench [--quick] [--json] [--sizes own,720p,1080p] [--live-sizes 720p,1080p] [--every-nth 1,3]
           [--max-streams 8] [--warmup 5s] [--window 15s] [--inference-workers N] [--media FILE] [--model PATH] [--labels PATH]
sie bench --soak [--streams 4] [--duration 30m] [--outage-every 5m] [--outage-length 10s]
           [--sample-every 10s] [--out soak.jsonl] [--media FILE] [--model PATH] [--labels PATH]
  Measures the engine. Run it on a quiet machine: anything else running halves the figures on 2 cores.
  (default) throughput and capacity, on clips made from --media with ffmpeg (its own size, 720p25 and
          1080p25; kept in the temp folder for the next run), each measure alone, one after the other:
          the limit (CPU ms per frame of decode, inference and encode alone; cores / their sum = limit fps),
          the naive loop (read, detect, draw, write, nothing overlapping), sie replay writing the video,
          and live: how many streams of --live-sizes one sie engine holds (new frames at >= 98% of the rate,
          < 1% dropped) detecting on each of --every-nth, found by adding runs one at a time (cameras: sie
          camera --copy; a temporary database on SIE_DATABASE_URL's server, dropped at the end), with
          every output frame's latency from arrival to the RTSP mount, end to end and per stage (p50/p90/p99).
          Prints tables, the load average and PASS/MISS per target; --json prints one JSON object instead
          (progress on stderr). --quick: the source's own size only, 3 s clips, one live stream: under a
          minute, for make test; its figures are rough. Exits 0 whatever the targets.
  --soak  N simulated cameras (sie camera, 576p at 10 fps from --media) and one sie engine process running
          one run per camera from a temporary database (SIE_DATABASE_URL's server, dropped at the end), an
          RTSP reader on every output, one camera killed and restarted on its port every --outage-every.
          Every --sample-every: the engine's RSS, open fds, child processes and frames in/out/dropped, as
          JSON lines to --out (then each outage, then the summary). At the end: RSS at warm-up end (the
          first third) and at the end, fds and children after warm-up, drop %, outages and whether every
          run came back to running, with the load average, and PASS/MISS per goal (RSS growth < 2%, fds
          and children flat, drops < 1%). Exits 0 whatever the goals; 1 if the engine died under it.
sie bench --accuracy [--json] [--truth DIR] [--clips plaza-pedestrians.mp4,...] [--tolerance 10] [--model PATH] [--labels PATH]
  --accuracy  replays every clip of ../shared/media that has a hand-verified truth in --truth (default the
          repository's test/fixtures/truth, schema in its README) with the fixture config the truth names,
          and scores the events one-to-one against it within --tolerance frames either way (default
          ${DEFAULT_TOLERANCE_FRAMES}), line crossings per direction: truth, engine, matched, missed, false alarms,
          recall and precision per rule and clip, then the frames of each miss and false alarm. --json prints
          one JSON object instead. Its figures do not depend on the machine's load.
  Durations take s, m or h. Defaults read ../shared (or $SIE_SHARED). Ctrl-C ends it early;
  a second Ctrl-C kills every child at once and exits (the temporary database is left).`;

const fileOption = z.string().min(1).refine(existsSync, 'file not found').optional();

const soakSchema = z
  .object({
    soak: z.literal(true),
    streams: z.coerce.number().int().min(1).max(32).default(4),
    duration: durationSchema.default(30 * 60),
    'outage-every': durationSchema.default(5 * 60),
    'outage-length': durationSchema.default(10),
    'sample-every': durationSchema.default(10),
    out: z.string().min(1).default('soak.jsonl'),
    media: fileOption,
    model: fileOption,
    labels: fileOption,
  })
  .strict()
  .refine((o) => o['outage-length'] < o['outage-every'], { message: 'must be shorter than --outage-every', path: ['outage-length'] });

/** A comma-separated list, each item checked by `item`; duplicates removed, order kept. */
const listOf = <O>(item: z.ZodType<O, string>) =>
  z
    .string()
    .transform((s) => [...new Set(s.split(',').map((x) => x.trim()).filter(Boolean))])
    .pipe(z.array(item).min(1, 'give at least one'));

const throughputSchema = z
  .object({
    quick: z.boolean().default(false),
    json: z.boolean().default(false),
    sizes: listOf(z.enum(CLIP_SIZES)).optional(),
    'live-sizes': listOf(z.enum(CLIP_SIZES)).optional(),
    'every-nth': listOf(z.string().regex(/^\d+$/, 'expected whole numbers').transform(Number).pipe(z.number().int().min(1).max(30))).optional(),
    'max-streams': z.coerce.number().int().min(1).max(32).default(8),
    warmup: durationSchema.optional(),
    window: durationSchema.optional(),
    'inference-workers': inferenceOptionsShape['inference-workers'],
    media: fileOption,
    model: fileOption,
    labels: fileOption,
  })
  .strict();

const accuracySchema = z
  .object({
    accuracy: z.literal(true),
    json: z.boolean().default(false),
    truth: z.string().min(1).refine(existsSync, 'folder not found').optional(),
    clips: listOf(z.string().min(1)).optional(),
    tolerance: z.coerce.number().int().min(0).max(100).default(DEFAULT_TOLERANCE_FRAMES),
    model: fileOption,
    labels: fileOption,
  })
  .strict();

const optionNames = ['accuracy', 'truth', 'clips', 'tolerance', 'soak', 'quick', 'json', 'help', 'streams', 'duration', 'outage-every', 'outage-length', 'sample-every', 'out',
  'sizes', 'live-sizes', 'every-nth', 'max-streams', 'warmup', 'window', 'inference-workers', 'media', 'model', 'labels'] as const;
const booleans = new Set(['accuracy', 'soak', 'quick', 'json', 'help']);

/** Every option this command knows, for parseArgs; which mode takes which is the schemas' business. */
const parseArgsOptions = Object.fromEntries(optionNames.map((n) => [n, { type: booleans.has(n) ? ('boolean' as const) : ('string' as const), ...(n === 'help' ? { short: 'h' } : {}) }]));

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
      throw new UsageError(`${keys.join(', ')}: not an option of ${mode} (see sie bench --help)`);
    }
    throw err;
  }
}

export async function benchCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: parseArgsOptions });
  if (values.help) {
    process.stdout.write(`${benchUsage}\n`);
    return 0;
  }
  const { help: _help, ...rest } = values;
  const abort = new AbortController();
  if (rest.accuracy) {
    const o = strictParse(accuracySchema, rest, 'sie bench --accuracy');
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
  if (rest.soak) {
    const o = strictParse(soakSchema, rest, 'sie bench --soak');
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
  const o = strictParse(throughputSchema, rest, 'the throughput bench');
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
