import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { z } from 'zod';
import type { replay } from '../replay/replay.js';
import { replayWithFeedback } from '../replay/feedback.js';
import { replayStartTimeHelp, startTimeSchema } from '../replay/clock.js';
import { configBodySchema } from '../config/body.js';
import { loadConfigFile } from '../config/file.js';
import { createLogger } from '../log.js';
import { UsageError, inferenceHelp, inferenceOptionsShape, inferenceSettings, inferenceUsage, parseOptions, x264PresetSchema } from './args.js';
import { inferenceBackend } from '../inference/workerPool.js';

export const replayUsage = `sie replay VIDEO --model PATH --labels PATH [--format yolox] [--config FILE.json]
           [--out annotated.mp4] [--preset veryfast] [--events events.jsonl] [--start-time ISO8601] ${inferenceUsage}
  Runs a config (the API's JSON; model_id ignored) over a file as fast as the machine allows, without
  dropping frames: writes the annotated video and the events, then prints the counts per rule.
  --preset: x264's preset for --out (veryfast: a file to keep; sie bench uses the live runs' ultrafast).
${replayStartTimeHelp}
${inferenceHelp}`;

const schema = z.object({
  video: z.string().refine(existsSync, 'video file not found'),
  model: z.string().refine(existsSync, 'model file not found'),
  labels: z.string().refine(existsSync, 'labels file not found'),
  format: z.enum(['yolox']).default('yolox'),
  config: z.string().refine(existsSync, 'config file not found').optional(),
  out: z.string().min(1).optional(),
  preset: x264PresetSchema.default('veryfast'),
  events: z.string().min(1).optional(),
  'start-time': startTimeSchema.optional(),
  ...inferenceOptionsShape,
});

export async function replayCommand(argv: string[]): Promise<number> {
  const names = Object.keys(schema.shape).filter((k) => k !== 'video');
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])) });
  if (positionals.length !== 1) throw new UsageError(`expected one VIDEO\n${replayUsage}`);
  const o = parseOptions(schema, { ...values, video: positionals[0] });
  const file = o.config ? await loadConfigFile(o.config) : undefined;
  const logger = createLogger({ cmd: 'replay' }, process.env.SIE_LOG_LEVEL ?? 'warn');
  const backend = inferenceBackend(inferenceSettings(o));
  let r: Awaited<ReturnType<typeof replay>>;
  try {
    r = await replayWithFeedback({
      video: resolve(o.video),
      detector: { weightsPath: resolve(o.model), labels: resolve(o.labels), format: o.format, warmup: true, logger },
      createDetector: backend.createDetector,
      inferenceConcurrency: Math.max(1, backend.workers),
      config: file?.body ?? configBodySchema.parse({}),
      name: file?.name ?? basename(o.video),
      out: o.out ? resolve(o.out) : undefined,
      preset: o.preset,
      eventsPath: o.events ? resolve(o.events) : undefined,
      logger,
      startTime: o['start-time'],
      configFile: o.config,
    });
  } finally {
    await backend.close();
  }
  const perRule = new Map<string, Map<string, number>>();
  for (const e of r.events) {
    const key = e.type === 'cross' ? `cross ${e.direction}` : e.type;
    const m = perRule.get(e.rule_id) ?? new Map<string, number>();
    m.set(key, (m.get(key) ?? 0) + 1);
    perRule.set(e.rule_id, m);
  }
  process.stdout.write(`replay: ${r.frames} frames (${r.detectedFrames} detected) in ${r.seconds.toFixed(2)} s = ${r.fps.toFixed(1)} fps\n`);
  process.stdout.write(`events: ${r.events.length}\n`);
  for (const [rule, m] of perRule) {
    process.stdout.write(`  ${rule}: ${[...m].map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
  }
  if (o.out) process.stdout.write(`video: ${resolve(o.out)}\n`);
  if (o.events) process.stdout.write(`events file: ${resolve(o.events)}\n`);
  return 0;
}
