import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startCamera } from '../helpers/cameras.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startEngine as startEngineOn, stopAllEngines } from '../helpers/engineHarness.js';
import { getRun, insertModelAndConfig, insertRun, transitions, waitForRun } from '../helpers/engineFixtures.js';
import { freePort, killAll, sleep } from '../helpers/processes.js';

/**
 * A config version that cannot run never replaces one that does: the API refuses it (configs.test.ts), and
 * the engine — which also meets versions written by plain SQL — keeps the running version and says why.
 */

let db: TestDatabase;
const logLines: string[] = [];

/** An engine whose log the tests read. */
const startEngine = () =>
  startEngineOn(db, { logger: pino({ level: 'info' }, { write: (l: string) => void logLines.push(l) }), pollIntervalS: 1, stallTimeoutS: 5 });

/** What PUT /v1/configs does, without its checks: a new version row and the config moved to it (NOTIFY follows). */
async function writeVersionBySql(configId: string, version: number, body: object): Promise<void> {
  const m = await db.pool.query<{ model_id: string }>(`SELECT model_id FROM configs WHERE id = $1`, [configId]);
  await db.pool.query(`INSERT INTO config_versions (config_id, version, model_id, body) VALUES ($1, $2, $3, $4)`, [configId, version, m.rows[0]!.model_id, JSON.stringify(body)]);
  await db.pool.query(`UPDATE configs SET version = $2, body = $3 WHERE id = $1`, [configId, version, JSON.stringify(body)]);
}

const runConfigVersion = async (id: string) =>
  (await db.pool.query<{ config_version: number }>(`SELECT config_version FROM runs WHERE id = $1`, [id])).rows[0]!.config_version;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await stopAllEngines();
  await killAll();
});
afterAll(async () => {
  await db?.drop();
});

const base = { inference: { confidence: 0.3, iou: 0.45, every_nth_frame: 1 }, rules: [], drawing: {} };

describe('config versions the engine cannot run', () => {
  it('a running run keeps its version when a new one names classes the model lacks; a good one still applies after', async () => {
    const { configId } = await insertModelAndConfig(db.pool, 'acme', base);
    await startEngine();
    const camPort = await freePort();
    await startCamera(camPort);
    const id = await insertRun(db.pool, configId, `rtsp://127.0.0.1:${camPort}/cam`, { output_mount: 'guarded' });
    await waitForRun(db.pool, id, (r) => r.state === 'running', 30_000);

    await writeVersionBySql(configId, 2, { ...base, drawing: { blur_classes: ['persn'] }, rules: [{ id: 'z', type: 'zone_presence', classes: ['unicorn'], zone: [[0, 0], [1, 0], [1, 1], [0, 1]] }] });
    await expect.poll(() => logLines.join(''), { timeout: 20_000 }).toMatch(/config change refused/);
    expect(logLines.join('')).toMatch(/drawing\.blur_classes\.0: 'persn' is not a class of the model/);
    // Long enough for the drawing stage to have met the bad version on several frames, had it been applied.
    await sleep(2_000);
    expect(await getRun(db.pool, id)).toMatchObject({ state: 'running', error_kind: null });
    expect(await runConfigVersion(id)).toBe(1);

    await writeVersionBySql(configId, 3, { ...base, drawing: { blur_classes: ['person'] } });
    await expect.poll(() => runConfigVersion(id), { timeout: 20_000 }).toBe(3);
    expect((await getRun(db.pool, id)).state).toBe('running');
    expect(await transitions(db.pool, id)).toEqual(['pending', 'starting', 'connecting', 'running']);
  }, 90_000);

  it('a run whose stored config names a class the model lacks fails at start with config_invalid, not retried', async () => {
    const { configId } = await insertModelAndConfig(db.pool, 'acme', {
      ...base,
      rules: [{ id: 'door', type: 'zone_presence', classes: ['unicorn'], zone: [[0, 0], [1, 0], [1, 1], [0, 1]] }],
    });
    await startEngine();
    const camPort = await freePort();
    await startCamera(camPort);
    const id = await insertRun(db.pool, configId, `rtsp://127.0.0.1:${camPort}/cam`, { output_mount: 'bad-start' });
    const row = await waitForRun(db.pool, id, (r) => r.state === 'failed', 30_000);
    expect(row.error_kind).toBe('config_invalid');
    expect(row.error_message).toMatch(/rules\.0\.classes\.0: 'unicorn' is not a class of the model/);
    expect(row.attempts).toBeLessThanOrEqual(1);
    expect(await transitions(db.pool, id)).not.toContain('retrying');
  }, 60_000);
});
