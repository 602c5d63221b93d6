import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createPool, databaseUrl } from '../io/db/pool.js';
import { migrate } from '../io/db/migrate.js';
import { buildApi, DEFAULT_DATA_DIR, DEFAULT_MAX_MODEL_BYTES } from '../io/http/app.js';
import { createLogger } from '../log.js';
import { redactText } from '../redact.js';
import { parseOptions, portSchema, UsageError } from './args.js';
import { mediaRootOption } from './engine.js';

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

const envSchema = z.object({
  SIE_DATA_DIR: z.string().min(1).default(DEFAULT_DATA_DIR),
  SIE_MAX_MODEL_BYTES: z.coerce.number().int().positive().default(DEFAULT_MAX_MODEL_BYTES),
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
  const env = envSchema.safeParse({
    SIE_DATA_DIR: process.env.SIE_DATA_DIR || undefined,
    SIE_MAX_MODEL_BYTES: process.env.SIE_MAX_MODEL_BYTES || undefined,
  });
  if (!env.success) throw new UsageError(`environment: ${env.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);

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
  const app = await buildApi({ pool, dataDir: env.data.SIE_DATA_DIR, mediaRoot, logger, maxModelBytes: env.data.SIE_MAX_MODEL_BYTES });
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
