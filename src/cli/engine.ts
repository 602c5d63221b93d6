import { inspectOption } from './inspect.js';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { RtspServer } from '../io/rtsp/index.js';
import { createPool, databaseUrl } from '../io/db/pool.js';
import { migrate } from '../io/db/migrate.js';
import { Engine, engineApplicationName, newEngineId } from '../engine/engine.js';
import { DryRuns } from '../engine/dryRuns.js';
import { DEFAULT_MODEL_CACHE_MAX_BYTES, ModelCache } from '../models/modelCache.js';
import { createLogger, type Logger } from '../log.js';
import { redactText } from '../redact.js';
import { UsageError, help, inferenceOptionsShape, inferenceSettings, portSchema } from './args.js';
import { defineCommand } from './command.js';
import { MODEL_S3_READ_ENVIRONMENT, TRACING_ENVIRONMENT, type EnvironmentName } from './environment.js';
import { inferenceBackend } from '../inference/workerPool.js';
import { unambiguousUrl } from '../urlCheck.js';
import { mediaRootFrom } from '../io/mediaRoot.js';
import { waitForShutdownSignal } from './signals.js';
import { dataDirFromEnv, modelS3Environment } from './apiEnv.js';
import type { ModelS3Config } from '../io/s3/config.js';
import { ModelObjects } from '../io/s3/modelObjects.js';
import { mqttUrlFromEnv } from '../events/mqtt.js';
import { frameTimingsDescription, frameTimingsSchema, openFrameTimingsOption } from './frameTimings.js';
import { startTracingFromEnv, traceSampleEveryHelp, traceSampleEverySchema } from './tracing.js';
import { SieMetrics } from '../observability/metrics.js';
import { engineReadiness, engineStartup, type Probes } from '../observability/health.js';
import { databaseCheck } from '../io/http/routes/health.js';
import { listeningPort, startProbeServer } from '../io/http/probeServer.js';
import type { Pool } from 'pg';

/** --mqtt-url and SIE_MQTT_URL alike: a broker URL whose credentials every parser reads the same way. */
const mqttUrlSchema = unambiguousUrl(z.string().regex(/^mqtts?:\/\//, 'expected mqtt:// or mqtts://'));

export const engineOptionsSchema = z.object({
  'max-runs': z.coerce.number().int().min(0).max(1000).default(4).meta(help('runs this engine executes at once (0: it claims none)', 'N')),
  capacity: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000_000)
    .optional()
    .meta(help('what this engine holds, in cost units (CPU ms per second of video; 1000 = one core): claims take only runs that fit (README, Capacity); e.g. 1600 for 80% of 2 cores', 'UNITS', 'no limit, only --max-runs')),
  dry: z
    .boolean()
    .default(false)
    .meta(help('the control plane only: the real poller, lease, claims, fencing and drain; claimed runs are held (their cost), never run: no ffmpeg, no model (scale tests)')),
  'db-connections': z.coerce
    .number()
    .int()
    .min(1)
    .max(50)
    .default(2)
    .meta(help("database connections of each engine besides its LISTEN connection, one of them the lease's own when 2 or more (statements are short: 200 engines must fit a PostgreSQL)", 'N')),
  pool: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'expected a pool name: lower-case letters, digits and "-", e.g. cpu or gpu')
    .default('cpu')
    .meta(help('the kind of engine: it claims runs that ask for this pool, or for none', 'NAME')),
  'poll-interval': z.coerce.number().min(0.1).max(60).default(1).meta(help('seconds between claims while LISTEN is down; half of it (at most 0.5 s) is how long a run waits for the nudged engines before any engine claims it', 'S')),
  'rtsp-port': portSchema.default(8554).meta(help("port of the RTSP server the runs' annotated outputs are served on; 0: any free port", 'PORT')),
  /** Default 0.0.0.0 for `sie engine`; `sie serve` uses its --host. */
  'rtsp-host': z.string().min(1).optional().meta(help('address the RTSP server listens on', 'HOST', '0.0.0.0; sie serve: its --host')),
  'rtsp-max-connections': z.coerce.number().int().min(1).max(100_000).default(256).meta(help('RTSP client connections served at once; more are refused', 'N')),
  'advertise-host': z.string().min(1).default('127.0.0.1').meta(help("host written in the runs' output URLs and the printed lines (this machine as viewers reach it)", 'HOST')),
  'lease-ttl': z.coerce.number().min(1).max(600).default(10).meta(help("seconds an engine's lease lasts without renewal: its runs go to another engine after it", 'S')),
  'stall-timeout': z.coerce.number().positive().max(300).default(5).meta(help('seconds without a frame before a source counts as stalled and is reconnected', 'S')),
  'media-root': z.string().min(1).optional().meta(help('file:// sources are read only below DIR; without it they fail', 'DIR', 'SIE_MEDIA_ROOT, else none')),
  'mqtt-url': mqttUrlSchema.optional().meta(help('publish every event to this MQTT broker too (mqtt://host:1883 or mqtts://)', 'URL', 'SIE_MQTT_URL, else none')),
  'stats-interval': z.coerce.number().min(0).max(3600).default(0).meta(help('log one "run stats" line per run every S seconds (frames in/out, drops); 0 = off', 'S')),
  'frame-timings': frameTimingsSchema.optional().meta(help(`${frameTimingsDescription}; every run's frames, each line with its runId`, 'FILE', 'not written')),
  'trace-sample-every': traceSampleEverySchema.optional().meta(traceSampleEveryHelp),
  'metrics-port': z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .optional()
    .meta(help('serve /metrics (Prometheus, OpenMetrics text) and the probes /healthz, /readyz, /startupz on PORT; 0: any free port', 'PORT', 'not served')),
  'metrics-host': z.string().min(1).optional().meta(help('address the metrics port listens on', 'HOST', '--rtsp-host, else 0.0.0.0')),
  ...inferenceOptionsShape,
});

/** What `sie engine` and `sie serve` read from the environment. */
export const ENGINE_ENVIRONMENT = [
  'SIE_DATABASE_URL',
  'SIE_DATA_DIR',
  'SIE_MODEL_CACHE_DIR',
  'SIE_MODEL_CACHE_MAX_BYTES',
  ...MODEL_S3_READ_ENVIRONMENT,
  'SIE_MEDIA_ROOT',
  'SIE_MQTT_URL',
  'SIE_EVENT_RETENTION_HOURS',
  'SIE_INSPECT',
  'SIE_LOG_LEVEL', 'SIE_LOG_FORMAT',
  ...TRACING_ENVIRONMENT,
] as const satisfies readonly EnvironmentName[];

/** `sie engine` only (not `sie serve`): several dry engines in one process, for the scale test. */
const engineCommandSchema = engineOptionsSchema
  .extend({
    engines: z.coerce
      .number()
      .int()
      .min(1)
      .max(100)
      .default(1)
      .meta(help('with --dry: this many engines in this process, each with its own id, lease, connections and RTSP port (any free one)', 'N')),
    'dry-write-every': z.coerce
      .number()
      .min(0)
      .max(3600)
      .default(10)
      .meta(help("with --dry: each held run writes its counters (fenced) every S seconds, as a real run's rule counters change; 0 = never", 'S')),
  })
  .refine((o) => o.dry || o.engines === 1, { path: ['engines'], message: 'more than one engine per process needs --dry' })
  .refine((o) => o.engines === 1 || o['metrics-port'] === undefined, { path: ['metrics-port'], message: 'one metrics port serves one engine: not with --engines' });

export const engineCommandSpec = defineCommand({
  name: 'engine',
  summary: 'takes runs from PostgreSQL and executes them (one of many engines on one database)',
  description:
    'Takes runs from PostgreSQL (SIE_DATABASE_URL) and executes them, up to --max-runs at once, each one\'s output ' +
    'served on its RTSP server. Engines on one database share the runs: each holds a lease, and the runs of an engine ' +
    'that stops renewing it go to the others. SIGTERM or SIGINT releases its runs to other engines and exits 0; a ' +
    'second one is logged and the release goes on; a third forces an exit without the release (another engine ' +
    'takes the runs when their lease expires).',
  options: engineCommandSchema,
  environment: ENGINE_ENVIRONMENT,
  examples: [
    '# two engines on one database, each with its own RTSP port and metrics',
    'export SIE_DATABASE_URL=postgres://sie@db.example/sie',
    'sie engine --rtsp-port 8554 --metrics-port 9464 --advertise-host 10.0.0.7 &',
    'sie engine --rtsp-port 8556 --metrics-port 9465 --advertise-host 10.0.0.7 &',
    '# the control plane only: 10 dry engines in this process (make scale-test starts 20)',
    'sie engine --dry --engines 10 --capacity 4000',
  ],
  run: (o) => engineCommand(o),
});

export type EngineCliOptions = z.infer<typeof engineOptionsSchema> & { 'dry-write-every'?: number };

/** --media-root, else SIE_MEDIA_ROOT, as a real path; undefined when neither is set (no file sources). */
export function mediaRootOption(value: string | undefined): string | undefined {
  try {
    return mediaRootFrom(value);
  } catch (err) {
    throw new UsageError(`--media-root: ${(err as Error).message}`);
  }
}

/** What the engine reads from the environment (besides SIE_DATABASE_URL and SIE_MEDIA_ROOT). */
export interface EngineEnvironment {
  /** SIE_DATA_DIR, resolved, read as the API reads it (dataDirFromEnv). */
  readonly dataDir: string;
  /** SIE_MQTT_URL, or undefined when unset or empty. */
  readonly mqttUrl: string | undefined;
  /** SIE_MODEL_CACHE_DIR, resolved; absent = `<dataDir>/model-cache`. */
  readonly modelCacheDir?: string;
  /** SIE_MODEL_CACHE_MAX_BYTES; absent = 4 GiB. */
  readonly modelCacheMaxBytes?: number;
  /** SIE_MODEL_S3_URL and co.: where big models' weights are read from; absent = no S3 store. */
  readonly modelS3?: ModelS3Config;
}

/**
 * The engine's settings from `env`, checked at start: SIE_MQTT_URL gets the checks --mqtt-url gets, and a
 * bad one is a UsageError naming the variable (exit 2). Its value is not quoted: it may hold a password.
 */
export function engineEnvironment(env: NodeJS.ProcessEnv = process.env): EngineEnvironment {
  const mqttUrl = mqttUrlFromEnv(env);
  if (mqttUrl !== undefined) {
    const r = mqttUrlSchema.safeParse(mqttUrl);
    if (!r.success) throw new UsageError(`environment: SIE_MQTT_URL: ${r.error.issues[0]!.message}`);
  }
  inspectOption(env);
  const dataDir = resolve(dataDirFromEnv(env));
  const maxRaw = env.SIE_MODEL_CACHE_MAX_BYTES?.trim();
  // Digits only, as SIE_MAX_MODEL_BYTES: "4GB" must stop the engine, not cap the cache at 4 bytes.
  if (maxRaw && !(/^\d{1,15}$/.test(maxRaw) && Number(maxRaw) > 0)) {
    throw new UsageError(`environment: SIE_MODEL_CACHE_MAX_BYTES=${JSON.stringify(maxRaw)}: expected a whole number of bytes ≥ 1, e.g. 4294967296 for 4 GiB`);
  }
  const modelS3 = modelS3Environment(env);
  return {
    dataDir,
    mqttUrl,
    modelCacheDir: resolve(env.SIE_MODEL_CACHE_DIR || join(dataDir, 'model-cache')),
    modelCacheMaxBytes: maxRaw ? Number(maxRaw) : DEFAULT_MODEL_CACHE_MAX_BYTES,
    ...(modelS3 ? { modelS3 } : {}),
  };
}

/**
 * Starts the RTSP server and an engine on the database; returns a stop function (release runs, close).
 * `env` comes from engineEnvironment, read once by the command (`sie serve` shares its dataDir with the API).
 */
/** An engine's probes: ready when the database answers, the lease is held and it is not draining. */
export function engineProbes(pool: Pool, engine: Engine): Probes {
  return {
    readiness: async () => ({ database: await databaseCheck(pool), ...engineReadiness(engine.health()) }),
    startup: async () => engineStartup(engine.health()),
  };
}

export interface RunningEngine {
  engine: Engine;
  probes: Probes;
  /** The metrics it keeps: --metrics-port's, or the caller's (`sie serve`); none otherwise. */
  metrics: SieMetrics | undefined;
  stop(): Promise<void>;
}

export async function startEngine(
  o: EngineCliOptions,
  logger: Logger,
  env: EngineEnvironment,
  given?: SieMetrics,
): Promise<RunningEngine> {
  // Without --metrics-port (and no registry handed in) nothing could ever read them: every output frame
  // would still be observed into histograms, its origin kept for them, and the default collectors run.
  const metrics = given ?? (o['metrics-port'] === undefined ? undefined : new SieMetrics());
  const mediaRoot = mediaRootOption(o['media-root']);
  const timings = await openFrameTimingsOption(o['frame-timings'], logger);
  const tracing = startTracingFromEnv(logger, { sampleEvery: o['trace-sample-every'] });
  const url = databaseUrl();
  const engineId = newEngineId();
  // Kept open: an engine's few connections are busy every second or so (heartbeat, counters), and one
  // closed when idle for 30 s and opened again costs PostgreSQL a backend start and a new plan of every
  // named statement (at 200 engines: a tenth of a core, the scale test's "postmaster" share).
  const connections = (max: number) => createPool(url, { logger, max, applicationName: engineApplicationName(engineId), idleTimeoutMs: 0, genericPlans: true });
  // One of them the lease's own (see EngineOptions.controlPool), when there are two or more.
  const controlPool = o['db-connections'] >= 2 ? connections(1) : undefined;
  const pool = connections(controlPool ? o['db-connections'] - 1 : 1);
  await migrate(pool, { logger });
  const server = new RtspServer({ host: o['rtsp-host'] ?? '0.0.0.0', port: o['rtsp-port'], maxConnections: o['rtsp-max-connections'], logger });
  await server.listen();
  // A dry engine never runs a model: no inference threads, and no S3 client.
  const objects = env.modelS3 && !o.dry ? await ModelObjects.create(env.modelS3, logger) : undefined;
  if (objects) logger.info({ store: objects.name }, 'model store: the weights of models stored in S3 are read from it');
  const backend = inferenceBackend(o.dry ? { ...inferenceSettings(o), workers: 0 } : inferenceSettings(o));
  const engine = new Engine({
    engineId,
    pool,
    ...(controlPool ? { controlPool } : {}),
    databaseUrl: url,
    server,
    dataDir: env.dataDir,
    mediaRoot,
    logger,
    maxRuns: o['max-runs'],
    ...(o.capacity !== undefined ? { capacityUnits: o.capacity } : {}),
    enginePool: o.pool,
    dry: o.dry,
    dryWriteEveryS: o['dry-write-every'],
    pollIntervalS: o['poll-interval'],
    leaseTtlS: o['lease-ttl'],
    advertiseHost: o['advertise-host'],
    stallTimeoutS: o['stall-timeout'],
    mqttUrl: o['mqtt-url'] ?? env.mqttUrl,
    statsIntervalS: o['stats-interval'],
    createDetector: backend.createDetector,
    modelCache: new ModelCache({
      dir: env.modelCacheDir ?? join(env.dataDir, 'model-cache'),
      maxBytes: env.modelCacheMaxBytes ?? DEFAULT_MODEL_CACHE_MAX_BYTES,
      logger,
    }),
    ...(objects ? { modelObjects: objects } : {}),
    frameTimings: timings,
    tracing,
    inspect: inspectOption(),
    metrics,
  });
  const probes = engineProbes(pool, engine);
  const probeServer =
    o['metrics-port'] === undefined || !metrics
      ? undefined
      : await startProbeServer({ host: o['metrics-host'] ?? o['rtsp-host'] ?? '0.0.0.0', port: o['metrics-port'], probes, metrics, logger });
  engine.start();
  const metricsNote = probeServer ? ` metrics=http://${o['advertise-host']}:${listeningPort(probeServer, o['metrics-port']!)}/metrics` : '';
  process.stdout.write(`engine: ${engine.id} database=${redactText(url)} rtsp=rtsp://${o['advertise-host']}:${server.port}/${metricsNote}\n`);
  return {
    engine,
    probes,
    metrics,
    stop: async () => {
      // Probes keep answering during the drain (readiness says draining), then go with the engine.
      await engine.stop();
      await probeServer?.close();
      // The runs are stopped: no more timings come.
      await timings?.close();
      await tracing?.shutdown();
      await server.close();
      await pool.end();
      await controlPool?.end();
      await backend.close();
      objects?.close();
    },
  };
}

async function engineCommand(o: z.output<typeof engineCommandSchema>): Promise<number> {
  const env = engineEnvironment();
  const logger = createLogger({ cmd: 'engine' });
  // Listen before startEngine prints its line: a supervisor may send SIGTERM as soon as it sees it.
  const signalled = waitForShutdownSignal(logger, 'engine');
  // Several (dry) engines: each its own RTSP server, on a free port.
  const each = o.engines > 1 ? { ...o, 'rtsp-port': 0 } : o;
  const running: RunningEngine[] = [];
  for (let i = 0; i < o.engines; i++) running.push(await startEngine(each, logger, env));
  const signal = await signalled;
  logger.info({ signal }, 'engine stopping: releasing runs');
  await Promise.all(running.map((r) => r.stop()));
  // A dry engine's last line says what it did (the scale harness reads it).
  for (const { engine } of running) {
    if (engine.runs instanceof DryRuns) process.stdout.write(`engine: ${engine.id} dry ${JSON.stringify(engine.runs.summary())}\n`);
  }
  process.stdout.write('engine: stopped\n');
  return 0;
}
