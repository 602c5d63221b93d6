import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createPool, databaseUrl } from '../io/db/pool.js';
import { migrate } from '../io/db/migrate.js';
import { buildApi } from '../io/http/app.js';
import { createLogger } from '../log.js';
import { redactText } from '../redact.js';
import { apiEnvironment } from './apiEnv.js';
import { parseOptions, portSchema, UsageError } from './args.js';
import { mediaRootOption } from './engine.js';
import { SieMetrics } from '../observability/metrics.js';

export const apiUsage = `sie api [--host 127.0.0.1] [--port 8000] [--media-root DIR]
  The HTTP API (models, configs, runs; OpenAPI at /openapi.json, UI at /docs). Migrates the database
  first. Environment: SIE_DATABASE_URL, SIE_DATA_DIR (./.sie), SIE_MAX_MODEL_BYTES (500 MB),
  SIE_MEDIA_ROOT. file:// sources are refused unless a media root is set (the engines need the same
  files at the same paths: they check again).`;

const schema = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: portSchema.default(8000),
  'media-root': z.string().min(1).optional(),
});

export async function apiCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { host: { type: 'string' }, port: { type: 'string' }, 'media-root': { type: 'string' } },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n${apiUsage}`);
  const o = parseOptions(schema, values);
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
  const app = await buildApi({ pool, dataDir: env.dataDir, mediaRoot, logger, maxModelBytes: env.maxModelBytes, metrics: new SieMetrics() });
  const address = await app.listen({ host: o.host, port: o.port });
  process.stdout.write(`sie api: ${address} (docs: ${address}/docs, OpenAPI: ${address}/openapi.json)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await app.close();
  await pool.end();
  return 0;
}
