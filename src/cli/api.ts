import { z } from 'zod';
import { createPool, databaseUrl } from '../io/db/pool.js';
import { migrate } from '../io/db/migrate.js';
import { buildApi } from '../io/http/app.js';
import { createLogger } from '../log.js';
import { redactText } from '../redact.js';
import { apiEnvironment } from './apiEnv.js';
import { help, portSchema } from './args.js';
import { defineCommand } from './command.js';
import { mediaRootOption } from './engine.js';
import { SieMetrics } from '../observability/metrics.js';
import { copyLegacyModels } from '../models/backfill.js';
import { MODEL_S3_ENVIRONMENT } from './environment.js';
import { openModelObjects } from './modelObjects.js';

const schema = z.object({
  host: z.string().min(1).default('127.0.0.1').meta(help('address the API listens on', 'HOST')),
  port: portSchema.default(8000).meta(help("the API's port; 0: any free port", 'PORT')),
  'media-root': z.string().min(1).optional().meta(help('file:// sources are accepted only below DIR (the engines need the same files at the same paths)', 'DIR', 'SIE_MEDIA_ROOT, else none: refused')),
});

export const apiCommandSpec = defineCommand({
  name: 'api',
  summary: 'the HTTP API alone: models, configs, runs, events (engines run elsewhere)',
  description:
    'The HTTP API: models, configs, runs and their events (OpenAPI at /openapi.json, a UI at /docs, probes at ' +
    '/healthz and /readyz). Migrates the database first. Runs created here are executed by the sie engine ' +
    'processes on the same database. SIGTERM or Ctrl-C closes it.',
  options: schema,
  environment: ['SIE_DATABASE_URL', 'SIE_DATA_DIR', 'SIE_MAX_MODEL_BYTES', ...MODEL_S3_ENVIRONMENT, 'SIE_MEDIA_ROOT', 'SIE_RTSP_PUBLIC_URL', 'SIE_LOG_LEVEL', 'SIE_LOG_FORMAT'],
  examples: ['# on every interface, port 8080', 'SIE_DATABASE_URL=postgres://sie@db/sie sie api --host 0.0.0.0 --port 8080'],
  run: (o) => apiCommand(o),
});

async function apiCommand(o: z.output<typeof schema>): Promise<number> {
  const mediaRoot = mediaRootOption(o['media-root']);
  const env = apiEnvironment();

  const logger = createLogger({ cmd: 'api' });
  const url = databaseUrl();
  const pool = createPool(url, { logger });
  try {
    await migrate(pool, { logger });
  } catch (err) {
    await pool.end();
    const hint = (err as { code?: string }).code === '3D000' ? ' (create it with: sie db create)' : '';
    throw new Error(`database ${redactText(url)}: ${(err as Error).message}${hint}`, { cause: err });
  }
  const objects = await openModelObjects(env.modelS3, logger);
  const app = await buildApi({
    pool,
    dataDir: env.dataDir,
    mediaRoot,
    logger,
    maxModelBytes: env.maxModelBytes,
    publicRtspUrl: env.publicRtspUrl,
    metrics: new SieMetrics(),
    ...(objects ? { modelObjects: objects } : {}),
  });
  // In the background: serving does not wait for old models to be copied into the shared store.
  const backfill = copyLegacyModels({ pool, dataDir: env.dataDir, logger }).catch((err: unknown) =>
    logger.warn({ err: (err as Error).message }, 'model store: copying older models into the database failed'),
  );
  const address = await app.listen({ host: o.host, port: o.port });
  process.stdout.write(`sie api: ${address} (docs: ${address}/docs, OpenAPI: ${address}/openapi.json)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await app.close();
  await backfill;
  await pool.end();
  objects?.close();
  return 0;
}
