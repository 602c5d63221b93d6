import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { RtspServer } from '../io/rtsp/index.js';
import { isRtspUrl } from '../io/ffmpeg/decoder.js';
import { defaultEncoderSettings } from '../io/ffmpeg/encoder.js';
import { startRun } from '../actors/runSystem.js';
import { totalDropped, type RunStats } from '../pipeline/runStore.js';
import { describeFlow, type FlowReading } from '../pipeline/flow.js';
import { createLogger } from '../log.js';
import { redactText } from '../redact.js';
import { UsageError, help, inferenceOptionsShape, inferenceSettings, portSchema, x264PresetSchema, type Positional } from './args.js';
import { defineCommand } from './command.js';
import { TRACING_ENVIRONMENT } from './environment.js';
import { inferenceBackend } from '../inference/workerPool.js';
import { mountSchema } from '../config/mount.js';
import { unambiguousUrl } from '../urlCheck.js';
import { configBodySchema } from '../config/body.js';
import { loadConfigFile } from '../config/file.js';
import { appendFileSync } from 'node:fs';
import { inspectOption } from './inspect.js';
import { frameTimingsDescription, frameTimingsSchema, openFrameTimingsOption } from './frameTimings.js';
import { startTracingFromEnv, traceSampleEveryHelp, traceSampleEverySchema } from './tracing.js';

const positionals: readonly Positional[] = [
  {
    key: 'source',
    name: 'SOURCE',
    description:
      'the camera, an rtsp:// or rtsps:// URL (a password in it percent-encoded), or a video file (read at its native rate, like a camera)',
  },
];

const schema = z.object({
  source: unambiguousUrl(z.string().min(1), isRtspUrl).refine(
    (s) => isRtspUrl(s) || existsSync(s),
    'not an rtsp:// or rtsps:// URL, nor an existing file',
  ),
  model: z.string().refine(existsSync, 'model file not found').meta(help('the ONNX detection model file', 'PATH')),
  labels: z.string().refine(existsSync, 'labels file not found').meta(help("the model's class names, one per line, in its order", 'PATH')),
  format: z.enum(['yolox']).default('yolox').meta(help("the model's output layout", 'FORMAT')),
  port: portSchema.default(8554).meta(help('port of the embedded RTSP server that serves the annotated stream; 0: any free port', 'PORT')),
  host: z.string().default('0.0.0.0').meta(help('address the RTSP server listens on', 'HOST')),
  'advertise-host': z.string().default('127.0.0.1').meta(help('host written in the printed output URL (this machine as its viewers reach it)', 'HOST')),
  mount: mountSchema.default('live').meta(help("the output's path: rtsp://HOST:PORT/MOUNT", 'MOUNT')),
  config: z
    .string()
    .refine(existsSync, 'config file not found')
    .optional()
    .meta(help("a config document, as the API's GET /v1/configs/ID answers it or as POSTed (zones, lines, rules, inference, drawing; the API's own fields are set aside)", 'FILE', 'none: detection and tracking only, no rules')),
  events: z.string().min(1).optional().meta(help('append every event to FILE, one JSON object per line', 'FILE', 'not written')),
  name: z.string().min(1).max(200).optional().meta(help("the run's name in its events and logs", 'NAME', "the config's name, else --mount")),
  conf: z.coerce.number().min(0).max(1).optional().meta(help("detection confidence threshold, 0..1, over the config's inference.confidence", 'X', 'the config\'s, 0.3')),
  iou: z.coerce.number().min(0).max(1).optional().meta(help("NMS IoU threshold, 0..1, over the config's inference.iou", 'X', 'the config\'s, 0.45')),
  classes: z
    .string()
    .transform((s) => s.split(',').map((c) => c.trim()).filter(Boolean))
    .optional()
    .meta(help("detect only these classes, comma-separated (person,car), over the config's inference.classes", 'LIST', 'every class')),
  transport: z.enum(['tcp', 'udp']).default('tcp').meta(help('RTSP transport to the source', 'PROTO')),
  'connect-timeout': z.coerce.number().positive().max(300).default(10).meta(help('seconds to wait for the source to connect', 'S')),
  'stall-timeout': z.coerce.number().positive().max(300).default(5).meta(help('seconds without a frame before the source counts as stalled and is reconnected', 'S')),
  retries: z.coerce.number().int().min(0).max(1000).default(5).meta(help('reconnections after the source fails, with a backoff from 1 s up to 30 s', 'N')),
  push: unambiguousUrl(z.string().regex(/^rtsps?:\/\//, 'expected an rtsp:// URL'))
    .optional()
    .meta(help('send the output to this RTSP server (rtsp://server/path) instead of serving it', 'URL', 'served by the embedded server')),
  preset: x264PresetSchema.default('ultrafast').meta(help("x264's preset for the output", 'PRESET')),
  bitrate: z.coerce.number().int().min(100).max(50_000).optional().meta(help('output bitrate in kbit/s', 'KBPS', 'from the picture size and rate')),
  keyint: z.coerce.number().positive().max(30).default(2).meta(help('seconds between keyframes of the output (a late viewer waits up to this)', 'S')),
  'stats-interval': z.coerce.number().positive().default(5).meta(help('seconds between the status: lines (state, flow, fps, drops, inference time)', 'S')),
  'frame-timings': frameTimingsSchema.optional().meta(help(`${frameTimingsDescription}; not with --push`, 'FILE', 'not written')),
  'trace-sample-every': traceSampleEverySchema.optional().meta(traceSampleEveryHelp),
  ...inferenceOptionsShape,
});

export const runCommandSpec = defineCommand({
  name: 'run',
  summary: 'one annotated run in the foreground: SOURCE → detection, tracking, rules → RTSP (no database)',
  description:
    'One run in the foreground, without a database: SOURCE (an RTSP camera or a file) → detection → tracking and the ' +
    "config's rules → annotated H.264 on rtsp://HOST:PORT/MOUNT, or pushed to --push. Prints the output URL, then a " +
    'status: line every --stats-interval seconds. Ctrl-C or SIGTERM stops it cleanly; a file source ends it with ' +
    'state completed. Exit 0, or 1 when the run failed.',
  arguments: positionals,
  options: schema,
  environment: ['SIE_INSPECT', 'SIE_LOG_LEVEL', 'SIE_LOG_FORMAT', ...TRACING_ENVIRONMENT],
  examples: [
    '# a camera, with the shared model; watch: ffplay -rtsp_transport tcp rtsp://127.0.0.1:8554/live',
    'sie run rtsp://user:pass@10.0.0.5/stream1 --model ../shared/models/yolox_nano.onnx \\',
    '    --labels ../shared/models/coco_classes.txt',
    "# a file, with a config's zones and lines, events appended to a file",
    'sie run ../shared/media/plaza-pedestrians.mp4 --model ../shared/models/yolox_nano.onnx \\',
    '    --labels ../shared/models/coco_classes.txt --config test/fixtures/plaza-rules.json \\',
    '    --events events.jsonl',
  ],
  run: (o) => runCommand(o),
});

type RunOptions = z.output<typeof schema>;

async function runCommand(o: RunOptions): Promise<number> {
  const inspect = inspectOption();
  const logger = createLogger({ cmd: 'run' });
  // A pushing ffmpeg sends the packets itself: no moment of sending would ever be seen, the file would stay empty.
  if (o['frame-timings'] !== undefined && o.push) throw new UsageError('--frame-timings: needs the embedded RTSP output, not --push');
  const timings = await openFrameTimingsOption(o['frame-timings'], logger);
  const tracing = startTracingFromEnv(logger, { sampleEvery: o['trace-sample-every'] });
  let server: RtspServer | undefined;
  if (!o.push) {
    server = new RtspServer({ host: o.host, port: o.port, logger });
    await server.listen();
  }
  const source = isRtspUrl(o.source) ? o.source : resolve(o.source);
  const file = o.config ? await loadConfigFile(o.config) : undefined;
  const base = file?.body ?? configBodySchema.parse({});
  // Command-line thresholds override the file's.
  const config = {
    ...base,
    inference: {
      ...base.inference,
      ...(o.conf !== undefined ? { confidence: o.conf } : {}),
      ...(o.iou !== undefined ? { iou: o.iou } : {}),
      ...(o.classes ? { classes: o.classes } : {}),
    },
  };
  const eventsPath = o.events ? resolve(o.events) : undefined;
  const backend = inferenceBackend(inferenceSettings(o));
  const runId = randomUUID();
  const clientId = file?.clientId ?? 'local';
  const run = startRun({
    runId,
    clientId,
    name: o.name ?? file?.name ?? o.mount,
    config,
    onEvents: (events) => {
      if (eventsPath) appendFileSync(eventsPath, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    },
    source: { url: source, transport: o.transport, realtime: true },
    detector: {
      weightsPath: resolve(o.model),
      labels: resolve(o.labels),
      format: o.format,
      warmup: true,
      logger,
    },
    createDetector: backend.createDetector,
    output: server ? { kind: 'embedded', server, mountPath: o.mount } : { kind: 'push', url: o.push! },
    encoder: { ...defaultEncoderSettings, preset: o.preset, bitrateKbps: o.bitrate, keyframeIntervalS: o.keyint },
    retry: { maxAttempts: o.retries, backoffInitialS: 1, backoffMaxS: 30 },
    connectTimeoutS: o['connect-timeout'],
    stallTimeoutS: o['stall-timeout'],
    logger,
    onFrameSent: timings && ((t) => timings.record(t)),
    tracer: tracing?.forRun({ runId, clientId }),
    inspect,
  });
  const out = server ? `rtsp://${o['advertise-host']}:${server.port}/${o.mount}` : redactText(o.push!);
  process.stdout.write(`source: ${redactText(o.source)}\noutput: ${out}\n`);

  const reporter = startStatusLine(() => run.stats, () => run.state(), () => run.flow(), o['stats-interval']);
  const onSignal = () => void run.stop('signal');
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const outcome = await run.done;
  clearInterval(reporter);
  await timings?.close();
  await tracing?.shutdown();
  await server?.close();
  await backend.close();
  process.stdout.write(`ended: ${outcome.state}${outcome.error ? ` (${outcome.error.kind}: ${redactText(outcome.error.message)})` : ''}\n`);
  return outcome.state === 'failed' ? 1 : 0;
}

/** Every few seconds: state, flow (flowing, stalled, blocked(stage): src/pipeline/flow.ts), fps in and out,
 *  dropped frames, inference time, time to first output. */
function startStatusLine(statsNow: () => RunStats, state: () => string, flow: () => FlowReading, intervalS: number): NodeJS.Timeout {
  let prev = { in: 0, out: 0, at: performance.now() };
  return setInterval(() => {
    const stats = statsNow();
    const now = performance.now();
    const dt = (now - prev.at) / 1000;
    const fpsIn = (stats.framesIn - prev.in) / dt;
    const fpsOut = (stats.framesOut - prev.out) / dt;
    prev = { in: stats.framesIn, out: stats.framesOut, at: now };
    const first = stats.firstOutputAtMs ? ((stats.firstOutputAtMs - stats.startedAtMs) / 1000).toFixed(2) : '-';
    process.stdout.write(
      `status: state=${state()} flow=${describeFlow(flow())} fps_in=${fpsIn.toFixed(1)} fps_out=${fpsOut.toFixed(1)} frames_in=${stats.framesIn} ` +
        `frames_out=${stats.framesOut} dropped=${totalDropped(stats)} encoder_busy=${stats.droppedEncoderBusy} ` +
        `repeated=${stats.framesRepeated} slate=${stats.framesSlate} infer_ms=${stats.lastInferenceMs.toFixed(1)} ` +
        `reconnects=${stats.reconnects} first_output_s=${first}\n`,
    );
  }, intervalS * 1000);
}
