import { resolve } from 'node:path';
import { z } from 'zod';
import { buildApi } from '../io/http/app.js';
import { createPool, databaseUrl } from '../io/db/pool.js';
import { createLogger } from '../log.js';
import { ENGINE_ENVIRONMENT, engineEnvironment, engineOptionsSchema, mediaRootOption, startEngine } from './engine.js';
import { apiEnvironment } from './apiEnv.js';
import { waitForShutdownSignal } from './signals.js';
import { help, portSchema } from './args.js';
import { defineCommand } from './command.js';
import { SieMetrics } from '../observability/metrics.js';
import { copyLegacyModels } from '../models/backfill.js';
import { openModelObjects } from './modelObjects.js';

const schema = engineOptionsSchema.extend({
  host: z.string().default('127.0.0.1').meta(help('address the API listens on, and the RTSP server unless --rtsp-host says otherwise', 'HOST')),
  port: portSchema.default(8000).meta(help("the API's port; 0: any free port", 'PORT')),
});

export const serveCommandSpec = defineCommand({
  name: 'serve',
  summary: 'the HTTP API and one engine in one process (a single machine, or make demo)',
  description:
    'The HTTP API (as sie api) and one engine (as sie engine) in one process, on one database: one port for the API, ' +
    "its docs and the metrics of both halves. Takes every option of sie engine. RTSP listens on --host too unless " +
    '--rtsp-host says otherwise. file:// sources are refused unless --media-root (or SIE_MEDIA_ROOT) names the ' +
    'directory they must be under. SIGTERM or Ctrl-C closes the API and releases the runs.',
  options: schema,
  environment: [...new Set([...ENGINE_ENVIRONMENT, 'SIE_MAX_MODEL_BYTES', 'SIE_MODEL_S3_MIN_BYTES', 'SIE_RTSP_PUBLIC_URL'] as const)],
  examples: [
    '# everything on this machine: the API and its docs at http://127.0.0.1:8000/docs',
    'sie db create && sie serve',
    '# reachable from the network, with files under /srv/media allowed as sources',
    'sie serve --host 0.0.0.0 --advertise-host 10.0.0.7 --media-root /srv/media',
  ],
  run: (o) => serveCommand(o),
});

async function serveCommand(o: z.output<typeof schema>): Promise<number> {
  const mediaRoot = mediaRootOption(o['media-root']);
  // Checked before the engine starts: a bad value must stop `sie serve` at once, not fail every upload later.
  const env = apiEnvironment();
  // One reading of SIE_DATA_DIR for both halves: the API stores uploaded models where the engine looks.
  const dataDir = resolve(env.dataDir);
  const engineEnv = { ...engineEnvironment(), dataDir };
  const logger = createLogger({ cmd: 'serve' });
  // Listen before the first line is printed: a supervisor may send SIGTERM as soon as it sees it.
  const signalled = waitForShutdownSignal(logger, 'serve');
  // The engine migrates the database before anything else starts.
  // One --host for everything this process serves: a loopback API must not come with a public RTSP port.
  // One registry for both halves: the API port serves the engine's and the runs' metrics too.
  const metrics = new SieMetrics();
  const engine = await startEngine({ ...o, 'rtsp-host': o['rtsp-host'] ?? o.host }, logger, engineEnv, metrics);
  const pool = createPool(databaseUrl(), { logger, applicationName: 'sie-api' });
  const objects = await openModelObjects(env.modelS3, logger);
  const app = await buildApi({
    ...(objects ? { modelObjects: objects } : {}),
    pool,
    dataDir,
    mediaRoot,
    logger,
    maxModelBytes: env.maxModelBytes,
    publicRtspUrl: env.publicRtspUrl,
    metrics,
    probes: engine.probes,
  });
  // In the background: serving does not wait for old models to be copied into the shared store.
  const backfill = copyLegacyModels({ pool, dataDir, logger }).catch((err: unknown) =>
    logger.warn({ err: (err as Error).message }, 'model store: copying older models into the database failed'),
  );
  await app.listen({ host: o.host, port: o.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  process.stdout.write(`api: http://${o.host}:${port}/ (docs at /docs)\n`);
  const signal = await signalled;
  logger.info({ signal }, 'serve stopping: closing the API, releasing runs');
  await app.close();
  await engine.stop();
  await backfill;
  await pool.end();
  objects?.close();
  logger.info('serve stopped');
  process.stdout.write('serve: stopped\n');
  return 0;
}
