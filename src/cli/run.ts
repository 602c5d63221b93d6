import { parseArgs } from 'node:util';
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
import { UsageError, inferenceHelp, inferenceOptionsShape, inferenceSettings, inferenceUsage, parseOptions, portSchema, x264PresetSchema } from './args.js';
import { inferenceBackend } from '../inference/workerPool.js';
import { mountSchema } from '../config/mount.js';
import { unambiguousUrl } from '../urlCheck.js';
import { configBodySchema } from '../config/body.js';
import { loadConfigFile } from '../config/file.js';
import { appendFileSync } from 'node:fs';
import { inspectOption } from './inspect.js';
import { frameTimingsHelp, frameTimingsSchema, openFrameTimingsOption } from './frameTimings.js';
import { startTracingFromEnv, traceSampleEverySchema, tracingHelp } from './tracing.js';

export const runUsage = `sie run SOURCE --model PATH --labels PATH [--format yolox] [--port 8554] [--host 0.0.0.0]
        [--mount live] [--config FILE.json] [--events FILE.jsonl] [--name NAME]
        [--conf 0.3] [--iou 0.45] [--classes person,car] [--transport tcp|udp]
        [--connect-timeout 10] [--stall-timeout 5] [--retries 5] [--push rtsp://server/path]
        [--preset ultrafast] [--bitrate KBPS] [--keyint 2] [--advertise-host HOST] [--stats-interval 5]
        [--frame-timings FILE] [--trace-sample-every N] ${inferenceUsage}
  One run in the foreground, no database: SOURCE (rtsp://, rtsps:// or a file) → detection → annotated
  H.264 on rtsp://HOST:PORT/MOUNT (or pushed to --push). Ctrl-C stops it.
${frameTimingsHelp} Not with --push (ffmpeg then sends the packets itself).
${inferenceHelp}
${tracingHelp}`;

const schema = z.object({
  source: unambiguousUrl(z.string().min(1), isRtspUrl).refine(
    (s) => isRtspUrl(s) || existsSync(s),
    'not an rtsp:// or rtsps:// URL, nor an existing file',
  ),
  model: z.string().refine(existsSync, 'model file not found'),
  labels: z.string().refine(existsSync, 'labels file not found'),
  format: z.enum(['yolox']).default('yolox'),
  port: portSchema.default(8554),
  host: z.string().default('0.0.0.0'),
  'advertise-host': z.string().default('127.0.0.1'),
  mount: mountSchema.default('live'),
  config: z.string().refine(existsSync, 'config file not found').optional(),
  events: z.string().min(1).optional(),
  name: z.string().min(1).max(200).optional(),
  conf: z.coerce.number().min(0).max(1).optional(),
  iou: z.coerce.number().min(0).max(1).optional(),
  classes: z
    .string()
    .transform((s) => s.split(',').map((c) => c.trim()).filter(Boolean))
    .optional(),
  transport: z.enum(['tcp', 'udp']).default('tcp'),
  'connect-timeout': z.coerce.number().positive().max(300).default(10),
  'stall-timeout': z.coerce.number().positive().max(300).default(5),
  retries: z.coerce.number().int().min(0).max(1000).default(5),
  push: unambiguousUrl(z.string().regex(/^rtsps?:\/\//, 'expected an rtsp:// URL')).optional(),
  preset: x264PresetSchema.default('ultrafast'),
  bitrate: z.coerce.number().int().min(100).max(50_000).optional(),
  keyint: z.coerce.number().positive().max(30).default(2),
  'stats-interval': z.coerce.number().positive().default(5),
  'frame-timings': frameTimingsSchema.optional(),
  'trace-sample-every': traceSampleEverySchema.optional(),
  ...inferenceOptionsShape,
});

const optionNames = Object.keys(schema.shape).filter((k) => k !== 'source');

export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: Object.fromEntries(optionNames.map((n) => [n, { type: 'string' as const }])),
  });
  if (positionals.length !== 1) throw new UsageError(`expected one SOURCE\n${runUsage}`);
  const o = parseOptions(schema, { ...values, source: positionals[0] });
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
