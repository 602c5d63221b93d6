import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { startCamera } from '../helpers/cameras.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startEngine, stopAllEngines } from '../helpers/engineHarness.js';
import { MODELS_DIR, insertModelAndConfig, insertRun, waitForRun } from '../helpers/engineFixtures.js';
import { freePort, killAll, until } from '../helpers/processes.js';
import { parseOpenMetrics, samplesOf } from '../helpers/openMetrics.js';
import { buildApi } from '../../src/io/http/app.js';
import { SieMetrics } from '../../src/observability/metrics.js';
import { engineProbes } from '../../src/cli/engine.js';
import { failedChecks } from '../../src/observability/health.js';

/**
 * Stalled vs blocked on a real run: a camera that stops sending (SIGSTOP: the connection stays open, no
 * more frames) makes the run `stalled` in GET /v1/runs/{id} and in sie_run_flow_state while its state is
 * still `running`; SIGCONT makes it flow again.
 */

let db: TestDatabase;
let configId: string;
let api: FastifyInstance;

beforeAll(async () => {
  db = await createTestDatabase();
  ({ configId } = await insertModelAndConfig(db.pool));
  api = await buildApi({ pool: db.pool, dataDir: MODELS_DIR });
});

afterEach(async () => {
  await stopAllEngines();
  await killAll();
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

interface RunBody {
  state: string;
  flow: { state: string; blocked_at: string | null; at: string | null } | null;
}

const runOf = async (id: string): Promise<RunBody> => (await api.inject(`/v1/runs/${id}`)).json() as RunBody;

describe('flow of a live run', () => {
  it('a camera that goes quiet: stalled while still running (API and metric), flowing again when it resumes', async () => {
    const metrics = new SieMetrics({ defaultMetrics: false });
    // A stall timeout long enough to see `stalled` before the run goes retrying.
    await startEngine(db, { metrics, stallTimeoutS: 8 });
    const camPort = await freePort();
    const cam = await startCamera(camPort);
    const id = await insertRun(db.pool, configId, `rtsp://127.0.0.1:${camPort}/cam`);
    await waitForRun(db.pool, id, (r) => r.state === 'running', 30_000);
    await until(async () => (await runOf(id)).flow?.state === 'flowing', 10_000, 'flowing');
    expect((await runOf(id)).flow).toEqual({ state: 'flowing', blocked_at: null, at: expect.any(String) });

    cam.child.kill('SIGSTOP');
    try {
      await until(async () => (await runOf(id)).flow?.state === 'stalled', 8000, 'stalled');
      const r = await runOf(id);
      expect(r.state).toBe('running');
      const f = parseOpenMetrics(await metrics.render());
      expect(samplesOf(f, 'sie_run_flow_state', 'sie_run_flow_state', { run_id: id, state: 'stalled' })[0]?.value).toBe(1);
      expect(samplesOf(f, 'sie_run_flow_state', 'sie_run_flow_state', { run_id: id, state: 'flowing' })[0]?.value).toBe(0);
    } finally {
      cam.child.kill('SIGCONT');
    }
    await until(async () => (await runOf(id)).flow?.state === 'flowing', 15_000, 'flowing again');

    await db.pool.query(`UPDATE runs SET stop_requested_at = now() WHERE id = $1`, [id]);
    await waitForRun(db.pool, id, (r) => r.state === 'stopped', 30_000);
    expect((await runOf(id)).flow).toBeNull();
  }, 120_000);

  it('readiness: an engine that drains (SIGTERM) is not ready while it releases its runs', async () => {
    const { engine } = await startEngine(db, { stallTimeoutS: 8 });
    const probes = engineProbes(db.pool, engine);
    await until(async () => failedChecks(await probes.readiness()) === undefined, 10_000, 'engine ready');
    expect(failedChecks(await probes.startup())).toBeUndefined();
    const camPort = await freePort();
    await startCamera(camPort);
    const id = await insertRun(db.pool, configId, `rtsp://127.0.0.1:${camPort}/cam`);
    await waitForRun(db.pool, id, (r) => r.state === 'running', 30_000);
    const stopping = engine.stop();
    try {
      const checks = await probes.readiness();
      expect(checks.draining).toEqual({ ok: false, detail: 'engine is draining (shutting down)' });
      expect(checks.database).toEqual({ ok: true });
    } finally {
      await stopping;
    }
    expect(failedChecks(await probes.readiness())).toMatch(/draining/);
    await waitForRun(db.pool, id, (r) => r.state === 'pending', 10_000);
  }, 90_000);
});
