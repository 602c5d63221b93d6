import type { Pool } from 'pg';
import { Engine, type EngineOptions } from '../../src/engine/engine.js';
import { RtspServer } from '../../src/io/rtsp/index.js';
import { silentLogger } from '../../src/log.js';
import { MODELS_DIR } from './engineFixtures.js';

export interface InProcessEngine {
  engine: Engine;
  server: RtspServer;
}

/** What a test may set; the rest has the defaults below. */
export type EngineHarnessOptions = Partial<Omit<EngineOptions, 'pool' | 'databaseUrl' | 'server'>>;

const started: InProcessEngine[] = [];

/**
 * An Engine in this process, started, with its own RtspServer on a free port of 127.0.0.1, on `db` (the
 * test database, or a private cluster). Defaults: models from the shared folder, no file sources (no
 * mediaRoot), silent, 4 runs, poll 0.5 s, lease TTL 5 s, the engine's own stall timeout. stopAllEngines()
 * (in afterEach or afterAll) stops every engine started here and closes its server.
 */
export async function startEngine(db: { pool: Pool; url: string }, opts: EngineHarnessOptions = {}): Promise<InProcessEngine> {
  const server = new RtspServer({ host: '127.0.0.1', port: 0, logger: silentLogger });
  await server.listen();
  const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as EngineHarnessOptions;
  const engine = new Engine({
    pool: db.pool,
    databaseUrl: db.url,
    server,
    dataDir: MODELS_DIR,
    logger: silentLogger,
    maxRuns: 4,
    pollIntervalS: 0.5,
    leaseTtlS: 5,
    advertiseHost: '127.0.0.1',
    ...given,
  });
  engine.start();
  const e = { engine, server };
  started.push(e);
  return e;
}

/** Stops every engine startEngine() started (and not stopped yet), then closes their RTSP servers. */
export async function stopAllEngines(): Promise<void> {
  await Promise.all(
    started.splice(0).map(async ({ engine, server }) => {
      try {
        await engine.stop();
      } finally {
        await server.close();
      }
    }),
  );
}
