import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { z } from 'zod';
import type { replay } from '../replay/replay.js';
import { replayWithFeedback } from '../replay/feedback.js';
import { replayStartTimeHelp, startTimeSchema } from '../replay/clock.js';
import { configBodySchema } from '../config/body.js';
import { loadConfigFile } from '../config/file.js';
import { createLogger } from '../log.js';
import { help, inferenceOptionsShape, inferenceSettings, x264PresetSchema, type Positional } from './args.js';
import { defineCommand } from './command.js';
import { inferenceBackend } from '../inference/workerPool.js';

const positionals: readonly Positional[] = [{ key: 'video', name: 'VIDEO', description: 'the video file to run the config over' }];

const schema = z.object({
  video: z.string().refine(existsSync, 'video file not found'),
  model: z.string().refine(existsSync, 'model file not found').meta(help('the ONNX detection model file', 'PATH')),
  labels: z.string().refine(existsSync, 'labels file not found').meta(help("the model's class names, one per line, in its order", 'PATH')),
  format: z.enum(['yolox']).default('yolox').meta(help("the model's output layout", 'FORMAT')),
  config: z
    .string()
    .refine(existsSync, 'config file not found')
    .optional()
    .meta(help("a config document, as the API's GET /v1/configs/ID answers it or as POSTed (zones, lines, rules, inference, drawing; the API's own fields are set aside)", 'FILE', 'none: detection and tracking only, no events')),
  out: z.string().min(1).optional().meta(help('write the annotated video to FILE (.mp4)', 'FILE', 'not written')),
  preset: x264PresetSchema.default('veryfast').meta(help("x264's preset for --out (veryfast: a file to keep; sie bench uses the live runs' ultrafast)", 'PRESET')),
  events: z.string().min(1).optional().meta(help('write every event to FILE, one JSON object per line', 'FILE', 'not written')),
  'start-time': startTimeSchema
    .optional()
    .meta(help("the wall time of the file's first frame, for the events' time (ISO 8601 with its zone: 2024-05-01T12:00:00Z)", 'TIME', "the file's creation_time, else 1970-01-01T00:00:00Z")),
  ...inferenceOptionsShape,
});

export const replayCommandSpec = defineCommand({
  name: 'replay',
  summary: 'runs a config over a video file as fast as the machine allows: annotated video, events, counts',
  description:
    'Runs a config over a video file as fast as the machine allows, without dropping a frame: writes the annotated ' +
    'video (--out) and the events (--events), then prints the frames, the speed and the event counts per rule. ' +
    'The same file, config and model give the same events every time.',
  arguments: positionals,
  options: schema,
  // replay's own words on its clock and progress, unwrapped here and wrapped to the help's width.
  notes: [{ heading: 'Notes:', text: replayStartTimeHelp.replace(/\s*\n\s*/g, ' ').trim() }],
  environment: ['SIE_LOG_LEVEL', 'SIE_LOG_FORMAT'],
  examples: [
    '# the plaza clip with its fixture config: the annotated video and the events',
    'sie replay ../shared/media/plaza-pedestrians.mp4 --model ../shared/models/yolox_nano.onnx \\',
    '    --labels ../shared/models/coco_classes.txt --config test/fixtures/plaza-rules.json \\',
    '    --out plaza.mp4 --events plaza.jsonl',
  ],
  run: (o) => replayCommand(o),
});

async function replayCommand(o: z.output<typeof schema>): Promise<number> {
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
