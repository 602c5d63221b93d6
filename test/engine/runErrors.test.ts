import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../src/engine/engine.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startEngine, stopAllEngines } from '../helpers/engineHarness.js';
import { MODELS_DIR, getRun, insertModelAndConfig, insertRun, transitions, waitForRun } from '../helpers/engineFixtures.js';
import { sleep } from '../helpers/processes.js';
import { PLAZA, SHARED } from '../helpers/media.js';

/**
 * Runs that cannot work, on a real engine and database: they end `failed` with the right error kind, at
 * once, and are never retried (a retry could not help). The engine's data dir holds the real model (a
 * link) and a file named .onnx that is not ONNX.
 */
let db: TestDatabase;
let dataDir: string;
let engine: Engine;

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'sie-run-errors-'));
  symlinkSync(join(MODELS_DIR, 'yolox_nano.onnx'), join(dataDir, 'yolox_nano.onnx'));
  writeFileSync(join(dataDir, 'not-a-model.onnx'), 'this is a text file, not an ONNX graph\n'.repeat(100));
  ({ engine } = await startEngine(db, { dataDir, mediaRoot: SHARED }));
});

afterEach(async () => {
  // A run that failed must not linger in the engine (it would hold a slot of --max-runs forever).
  const deadline = Date.now() + 30_000;
  while (engine.runs.count > 0 && Date.now() < deadline) await sleep(50);
  expect(engine.runs.count).toBe(0);
});

afterAll(async () => {
  await stopAllEngines();
  await db?.drop();
});

/** Waits for the run to fail, then lets several polls go by: a failed run is never claimed again. */
async function failsForGood(id: string) {
  const failed = await waitForRun(db.pool, id, (r) => r.state === 'failed', 60_000);
  await sleep(2000);
  const later = await getRun(db.pool, id);
  expect(later.state).toBe('failed');
  expect((await transitions(db.pool, id)).filter((s) => s === 'starting')).toHaveLength(1);
  return failed;
}

describe('runs that cannot work', () => {
  it('a model file that is not ONNX: failed / model_error, not retried', async () => {
    const { modelId, configId } = await insertModelAndConfig(db.pool);
    await db.pool.query(`UPDATE models SET file_path = 'not-a-model.onnx' WHERE id = $1`, [modelId]);
    const id = await insertRun(db.pool, configId, `file://${PLAZA}`);
    const r = await failsForGood(id);
    expect(r.error_kind).toBe('model_error');
    expect(r.error_message).toMatch(/not-a-model\.onnx/);
    expect(r.attempts).toBe(0);
    expect(await transitions(db.pool, id)).toEqual(['pending', 'starting', 'failed']);
  }, 90_000);

  it('a config body the engine cannot parse (written by SQL, past the API): failed / config_invalid, not retried', async () => {
    const { configId } = await insertModelAndConfig(db.pool);
    // The documented contract lets any service write rows: here a version whose body the schema refuses.
    const bad = { inference: { confidence: 7 }, rules: [{ id: 'x', type: 'no_such_rule' }] };
    await db.pool.query(`UPDATE config_versions SET body = $2 WHERE config_id = $1 AND version = 1`, [configId, JSON.stringify(bad)]);
    const id = await insertRun(db.pool, configId, `file://${PLAZA}`);
    const r = await failsForGood(id);
    expect(r.error_kind).toBe('config_invalid');
    expect(r.error_message).toMatch(/confidence|rules/);
    expect(await transitions(db.pool, id)).toEqual(['pending', 'starting', 'failed']);
  }, 90_000);

  it('a config naming a class the model does not have: failed / config_invalid, not retried', async () => {
    const { configId } = await insertModelAndConfig(db.pool, 'acme', { drawing: { blur_classes: ['persn'] } });
    const id = await insertRun(db.pool, configId, `file://${PLAZA}`);
    const r = await failsForGood(id);
    expect(r.error_kind).toBe('config_invalid');
    expect(r.error_message).toMatch(/persn/);
    expect(r.attempts).toBe(0);
    expect((await transitions(db.pool, id)).at(-1)).toBe('failed');
    expect(await transitions(db.pool, id)).not.toContain('retrying');
  }, 90_000);
});
