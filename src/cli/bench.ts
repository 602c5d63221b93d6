import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { durationSchema } from '../bench/duration.js';
import { runSoak } from '../bench/soak.js';
import { killAllChildren } from '../bench/children.js';
import { constants } from 'node:os';
import { UsageError, parseOptions } from './args.js';

const shared = () => resolve(process.env.SIE_SHARED ?? '../shared');

export const benchUsage = `sie bench --soak [--streams 4] [--duration 30m] [--outage-every 5m] [--outage-length 10s]
           [--sample-every 10s] [--out soak.jsonl] [--media FILE] [--model PATH] [--labels PATH]
  Measures the engine under a realistic load (one mode so far):
  --soak  N simulated cameras (sie camera, 576p at 10 fps from --media) and one sie engine process running
          one run per camera from a temporary database (SIE_DATABASE_URL's server, dropped at the end), an
          RTSP reader on every output, one camera killed and restarted on its port every --outage-every.
          Every --sample-every: the engine's RSS, open fds, child processes and frames in/out/dropped, as
          JSON lines to --out (then each outage, then the summary). At the end: RSS at warm-up end (the
          first third) and at the end, fds and children after warm-up, drop %, outages and whether every
          run came back to running, with the load average, and PASS/MISS per goal (RSS growth < 2%, fds
          and children flat, drops < 1%). Exits 0 whatever the goals; 1 if the engine died under it.
          Durations take s, m or h. Defaults read ../shared (or $SIE_SHARED). Ctrl-C ends it early;
          a second Ctrl-C kills every child at once and exits (the temporary database is left).`;

const schema = z
  .object({
    soak: z.boolean().default(false),
    streams: z.coerce.number().int().min(1).max(32).default(4),
    duration: durationSchema.default(30 * 60),
    'outage-every': durationSchema.default(5 * 60),
    'outage-length': durationSchema.default(10),
    'sample-every': durationSchema.default(10),
    out: z.string().min(1).default('soak.jsonl'),
    media: z.string().min(1).refine(existsSync, 'file not found').optional(),
    model: z.string().min(1).refine(existsSync, 'file not found').optional(),
    labels: z.string().min(1).refine(existsSync, 'file not found').optional(),
  })
  .refine((o) => o['outage-length'] < o['outage-every'], { message: 'must be shorter than --outage-every', path: ['outage-length'] });

export async function benchCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      soak: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      streams: { type: 'string' },
      duration: { type: 'string' },
      'outage-every': { type: 'string' },
      'outage-length': { type: 'string' },
      'sample-every': { type: 'string' },
      out: { type: 'string' },
      media: { type: 'string' },
      model: { type: 'string' },
      labels: { type: 'string' },
    },
  });
  if (values.help) {
    process.stdout.write(`${benchUsage}\n`);
    return 0;
  }
  const { help: _help, ...rest } = values;
  const o = parseOptions(schema, rest);
  if (!o.soak) throw new UsageError(`choose a mode\n${benchUsage}`);
  const files = {
    media: o.media ?? `${shared()}/media/plaza-pedestrians.mp4`,
    model: o.model ?? `${shared()}/models/yolox_nano.onnx`,
    labels: o.labels ?? `${shared()}/models/coco_classes.txt`,
  };
  for (const [name, path] of Object.entries(files)) if (!existsSync(path)) throw new UsageError(`--${name}: ${path} not found`);
  const abort = new AbortController();
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
