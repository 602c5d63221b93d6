import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { z } from 'zod';
import { RtspServer } from '../io/rtsp/index.js';
import { createPool, databaseUrl } from '../io/db/pool.js';
import { migrate } from '../io/db/migrate.js';
import { Engine } from '../engine/engine.js';
import { createLogger, type Logger } from '../log.js';
import { redactText } from '../redact.js';
import { parseOptions, portSchema } from './args.js';
import { waitForShutdownSignal } from './signals.js';

export const engineUsage = `sie engine [--max-runs 4] [--poll-interval 1] [--rtsp-port 8554] [--rtsp-host 0.0.0.0]
           [--advertise-host 127.0.0.1] [--lease-ttl 10] [--stall-timeout 5] [--mqtt-url mqtt://host:1883]
  Takes runs from PostgreSQL (SIE_DATABASE_URL) and executes them; SIGTERM releases them to other engines
  (a repeated SIGTERM is logged and ignored; SIGINT during the shutdown forces an exit without the release).`;

export const engineOptionsSchema = z.object({
  'max-runs': z.coerce.number().int().min(0).max(1000).default(4),
  'poll-interval': z.coerce.number().min(0.1).max(60).default(1),
  'rtsp-port': portSchema.default(8554),
  'rtsp-host': z.string().default('0.0.0.0'),
  'advertise-host': z.string().min(1).default('127.0.0.1'),
  'lease-ttl': z.coerce.number().min(1).max(600).default(10),
  'stall-timeout': z.coerce.number().positive().max(300).default(5),
  'mqtt-url': z.string().regex(/^mqtts?:\/\//, 'expected mqtt:// or mqtts://').optional(),
});
export type EngineCliOptions = z.infer<typeof engineOptionsSchema>;
export const engineOptionNames = Object.keys(engineOptionsSchema.shape);

/** Starts the RTSP server and an engine on the database; returns a stop function (release runs, close). */
export async function startEngine(o: EngineCliOptions, logger: Logger): Promise<{ engine: Engine; stop(): Promise<void> }> {
  const url = databaseUrl();
  const pool = createPool(url, { logger, applicationName: 'sie-engine' });
  await migrate(pool, { logger });
  const server = new RtspServer({ host: o['rtsp-host'], port: o['rtsp-port'], logger });
  await server.listen();
  const engine = new Engine({
    pool,
    databaseUrl: url,
    server,
    dataDir: resolve(process.env.SIE_DATA_DIR ?? '.sie'),
    logger,
    maxRuns: o['max-runs'],
    pollIntervalS: o['poll-interval'],
    leaseTtlS: o['lease-ttl'],
    advertiseHost: o['advertise-host'],
    stallTimeoutS: o['stall-timeout'],
    mqttUrl: o['mqtt-url'] ?? process.env.SIE_MQTT_URL,
  });
  engine.start();
  process.stdout.write(`engine: ${engine.id} database=${redactText(url)} rtsp=rtsp://${o['advertise-host']}:${server.port}/\n`);
  return {
    engine,
    stop: async () => {
      await engine.stop();
      await server.close();
      await pool.end();
    },
  };
}

export async function engineCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: Object.fromEntries(engineOptionNames.map((n) => [n, { type: 'string' as const }])) });
  const o = parseOptions(engineOptionsSchema, values);
  const logger = createLogger({ cmd: 'engine' });
  const running = await startEngine(o, logger);
  const signal = await waitForShutdownSignal(logger, 'engine');
  logger.info({ signal }, 'engine stopping: releasing runs');
  await running.stop();
  process.stdout.write('engine: stopped\n');
  return 0;
}
