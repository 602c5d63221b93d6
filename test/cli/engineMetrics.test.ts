import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { engineOptionsSchema, startEngine, type RunningEngine } from '../../src/cli/engine.js';
import { silentLogger } from '../../src/log.js';
import { SieMetrics } from '../../src/observability/metrics.js';

/**
 * `sie engine` without --metrics-port has nothing that could ever read its metrics: it must not keep any
 * (no per-frame histogram observations, no frame origins kept for them, no default collectors), while
 * --metrics-port, or `sie serve` handing in its registry, gets them.
 */
let db: TestDatabase;
const saved = process.env.SIE_DATABASE_URL;
beforeAll(async () => {
  db = await createTestDatabase();
  process.env.SIE_DATABASE_URL = db.url;
});
afterAll(async () => {
  if (saved === undefined) delete process.env.SIE_DATABASE_URL;
  else process.env.SIE_DATABASE_URL = saved;
  await db?.drop();
});

const options = (extra: Record<string, string> = {}) =>
  engineOptionsSchema.parse({ 'rtsp-port': '0', 'rtsp-host': '127.0.0.1', 'metrics-host': '127.0.0.1', 'poll-interval': '30', ...extra });
const env = { dataDir: '/tmp', mqttUrl: undefined };

async function withEngine(o: ReturnType<typeof options>, metrics: SieMetrics | undefined, check: (r: RunningEngine) => void): Promise<void> {
  const r = await startEngine(o, silentLogger, env, metrics);
  try {
    check(r);
  } finally {
    await r.stop();
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('startEngine metrics', () => {
  it('keeps no metrics without --metrics-port', async () => {
    // The Engine hands itself to the metrics it is given: no call = no registry behind it.
    const setEngine = vi.spyOn(SieMetrics.prototype, 'setEngine');
    await withEngine(options(), undefined, (r) => expect(r.metrics).toBeUndefined());
    expect(setEngine).not.toHaveBeenCalled();
  });

  it('keeps them with --metrics-port, and uses the registry it is given (sie serve)', async () => {
    await withEngine(options({ 'metrics-port': '0' }), undefined, (r) => expect(r.metrics).toBeInstanceOf(SieMetrics));
    const given = new SieMetrics({ defaultMetrics: false });
    await withEngine(options(), given, (r) => expect(r.metrics).toBe(given));
  });
});
