import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { z } from 'zod';
import { buildApi } from '../io/http/app.js';
import { createPool, databaseUrl } from '../io/db/pool.js';
import { createLogger } from '../log.js';
import { engineOptionsSchema, startEngine } from './engine.js';
import { waitForShutdownSignal } from './signals.js';
import { parseOptions, portSchema } from './args.js';

export const serveUsage = `sie serve [--host 127.0.0.1] [--port 8000] [--rtsp-port 8554] [engine options]
  The API and one engine in one process (SIE_DATABASE_URL, SIE_DATA_DIR).`;

const schema = engineOptionsSchema.extend({
  host: z.string().default('127.0.0.1'),
  port: portSchema.default(8000),
});

export async function serveCommand(argv: string[]): Promise<number> {
  const names = Object.keys(schema.shape);
  const { values } = parseArgs({ args: argv, options: Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])) });
  const o = parseOptions(schema, values);
  const logger = createLogger({ cmd: 'serve' });
  // The engine migrates the database before anything else starts.
  const engine = await startEngine(o, logger);
  const pool = createPool(databaseUrl(), { logger, applicationName: 'sie-api' });
  const app = await buildApi({
    pool,
    dataDir: resolve(process.env.SIE_DATA_DIR ?? '.sie'),
    logger,
    maxModelBytes: process.env.SIE_MAX_MODEL_BYTES ? Number(process.env.SIE_MAX_MODEL_BYTES) : undefined,
  });
  await app.listen({ host: o.host, port: o.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  process.stdout.write(`api: http://${o.host}:${port}/ (docs at /docs)\n`);
  const signal = await waitForShutdownSignal(logger, 'serve');
  logger.info({ signal }, 'serve stopping: closing the API, releasing runs');
  await app.close();
  await engine.stop();
  await pool.end();
  logger.info('serve stopped');
  process.stdout.write('serve: stopped\n');
  return 0;
}
