import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { z } from 'zod';
import { buildApi } from '../io/http/app.js';
import { createPool, databaseUrl } from '../io/db/pool.js';
import { createLogger } from '../log.js';
import { engineEnvironment, engineOptionsSchema, mediaRootOption, startEngine } from './engine.js';
import { apiEnvironment } from './apiEnv.js';
import { waitForShutdownSignal } from './signals.js';
import { parseOptions, portSchema } from './args.js';
import { SieMetrics } from '../observability/metrics.js';

export const serveUsage = `sie serve [--host 127.0.0.1] [--port 8000] [--rtsp-port 8554] [--media-root DIR] [engine options]
  The API and one engine in one process (SIE_DATABASE_URL, SIE_DATA_DIR, SIE_MAX_MODEL_BYTES). RTSP
  listens on --host too unless --rtsp-host says otherwise. file:// sources are refused unless
  --media-root (or SIE_MEDIA_ROOT) names the directory they must be under.`;

const schema = engineOptionsSchema.extend({
  host: z.string().default('127.0.0.1'),
  port: portSchema.default(8000),
});

export async function serveCommand(argv: string[]): Promise<number> {
  const names = Object.keys(schema.shape);
  const { values } = parseArgs({ args: argv, options: Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])) });
  const o = parseOptions(schema, values);
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
  const app = await buildApi({
    pool,
    dataDir,
    mediaRoot,
    logger,
    maxModelBytes: env.maxModelBytes,
    metrics,
    probes: engine.probes,
  });
  await app.listen({ host: o.host, port: o.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  process.stdout.write(`api: http://${o.host}:${port}/ (docs at /docs)\n`);
  const signal = await signalled;
  logger.info({ signal }, 'serve stopping: closing the API, releasing runs');
  await app.close();
  await engine.stop();
  await pool.end();
  logger.info('serve stopped');
  process.stdout.write('serve: stopped\n');
  return 0;
}
