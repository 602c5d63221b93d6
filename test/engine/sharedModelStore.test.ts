import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getRun, insertRun, waitForRun } from '../helpers/engineFixtures.js';
import { createTestDatabase } from '../helpers/db.js';
import { killAll, freePort, start, until } from '../helpers/processes.js';
import { LABELS, MODEL, PLAZA, SHARED, SIE } from '../helpers/media.js';
import { createConfig, modelForm, startApi, type Harness } from '../io/http/harness.js';
import { tempDirs } from '../helpers/tempDirs.js';

/**
 * The failure this store was made for: a model uploaded to the API lived only on the API's disk, and an
 * engine started elsewhere failed the run for good ("model file not found: <cwd>/.sie/models/<sha>.onnx").
 * Here the API takes the upload with its own data dir, and `sie engine` runs as its own process, from
 * another working directory, with another SIE_DATA_DIR that never saw the model: it fetches the weights
 * from PostgreSQL into its cache and runs the run.
 */
let h: Harness;
const temps = tempDirs();

beforeAll(async () => {
  h = await startApi({ mediaRoot: SHARED });
});
afterEach(() => killAll());
afterAll(async () => {
  await h?.close();
  temps.removeAll();
});

/** `sie engine` started from `cwd`, with `env` on top of the database and media root. */
async function engineIn(cwd: string, env: Record<string, string>) {
  const port = await freePort();
  return start('bash', ['-c', 'cd "$1" && exec "$2" engine --rtsp-port "$3" --poll-interval 0.5', '_', cwd, SIE, String(port)], {
    SIE_DATABASE_URL: h.db.url,
    SIE_MEDIA_ROOT: SHARED,
    SIE_DATA_DIR: '',
    SIE_MODEL_CACHE_DIR: '',
    ...env,
  });
}

describe('shared model store', () => {
  let modelId = '';
  let sha256 = '';
  let configId = '';

  beforeAll(async () => {
    const up = await h.app.inject({
      method: 'POST',
      url: '/v1/models',
      payload: modelForm({ file: await readFile(MODEL), labels: await readFile(LABELS, 'utf8'), name: 'nano', format: 'yolox' }),
    });
    expect(up.statusCode, up.body).toBe(201);
    ({ id: modelId, sha256 } = up.json());
    configId = (await createConfig(h.app, { client_id: 'acme', model_id: modelId })).id;
  });

  it('an engine with its own SIE_DATA_DIR and working directory runs a run whose model it never saw', async () => {
    const engineData = temps.make('sie-engine-data-');
    const cwd = temps.make('sie-engine-cwd-');
    expect(readdirSync(engineData)).toEqual([]);
    // Two runs of the model before the engine starts: claimed together, they share one fetch.
    const ids = [await insertRun(h.db.pool, configId, `file://${PLAZA}`), await insertRun(h.db.pool, configId, `file://${PLAZA}`)];
    const engine = await engineIn(cwd, { SIE_DATA_DIR: engineData });
    await engine.waitFor(/^engine: /m, 30_000);
    for (const id of ids) {
      const r = await waitForRun(h.db.pool, id, (x) => x.state === 'running' || x.state === 'failed' || x.state === 'completed', 90_000);
      expect(r, engine.stderr().slice(-2000)).toMatchObject({ error_kind: null });
      expect(['running', 'completed']).toContain(r.state);
    }
    expect(engine.stderr().match(/model cache: fetched/g)).toHaveLength(1);
    // The weights came from the database into this engine's cache, verified: its disk had nothing else.
    const cached = join(engineData, 'model-cache', `${sha256}.onnx`);
    expect((await readFile(cached)).equals(await readFile(MODEL))).toBe(true);
    expect(existsSync(join(engineData, 'models'))).toBe(false);
    expect(existsSync(join(cwd, '.sie'))).toBe(false);
  }, 120_000);

  it('SIE_MODEL_CACHE_DIR puts the cache elsewhere; SIE_DATA_DIR unset, nothing lands in the working directory', async () => {
    const cacheDir = temps.make('sie-engine-cache-');
    const cwd = temps.make('sie-engine-cwd-');
    const engine = await engineIn(cwd, { SIE_MODEL_CACHE_DIR: cacheDir });
    await engine.waitFor(/^engine: /m, 30_000);
    const id = await insertRun(h.db.pool, configId, `file://${PLAZA}`);
    const r = await waitForRun(h.db.pool, id, (x) => x.state === 'running' || x.state === 'failed' || x.state === 'completed', 90_000);
    expect((await getRun(h.db.pool, id)).error_message, engine.stderr().slice(-2000)).toBeNull();
    expect(['running', 'completed']).toContain(r.state);
    expect(readdirSync(cacheDir).filter((n) => n.endsWith('.onnx'))).toEqual([`${sha256}.onnx`]);
    expect(existsSync(join(cwd, '.sie', 'models'))).toBe(false);
  }, 120_000);
});

describe('a model uploaded before the shared store', () => {
  it('is copied into the database when `sie api` starts where its file is, then runs on an engine elsewhere', async () => {
    const db = await createTestDatabase();
    try {
      const weights = await readFile(MODEL);
      const sha256 = createHash('sha256').update(weights).digest('hex');
      // As a pre-0006 upload left it: the row without chunks, the file on the API's disk only.
      const apiData = temps.make('sie-api-data-');
      mkdirSync(join(apiData, 'models'));
      copyFileSync(MODEL, join(apiData, `models/${sha256}.onnx`));
      const labels = (await readFile(LABELS, 'utf8')).trim().split('\n');
      const m = await db.pool.query<{ id: string }>(
        `INSERT INTO models (name, format, sha256, file_path, labels_path, size_bytes, input_width, input_height, labels)
         VALUES ('old', 'yolox', $1, $2, 'models/x.labels.txt', $3, 416, 416, $4) RETURNING id`,
        [sha256, `models/${sha256}.onnx`, weights.length, JSON.stringify(labels)],
      );
      const body = { inference: { confidence: 0.3, iou: 0.45, every_nth_frame: 1 }, rules: [], drawing: {} };
      const c = await db.pool.query<{ id: string }>(`INSERT INTO configs (client_id, name, model_id, body) VALUES ('acme', 'old', $1, $2) RETURNING id`, [
        m.rows[0]!.id,
        JSON.stringify(body),
      ]);
      await db.pool.query(`INSERT INTO config_versions (config_id, version, model_id, body) VALUES ($1, 1, $2, $3)`, [c.rows[0]!.id, m.rows[0]!.id, JSON.stringify(body)]);

      const api = start(SIE, ['api', '--port', String(await freePort())], { SIE_DATABASE_URL: db.url, SIE_DATA_DIR: apiData });
      await api.waitFor(/^sie api: /m, 30_000);
      await until(async () => (await db.pool.query(`SELECT blob_chunks FROM models WHERE sha256 = $1`, [sha256])).rows[0].blob_chunks === 4, 30_000, 'the copy');
      expect(api.stderr()).toMatch(/copied into the database/);

      const engineData = temps.make('sie-engine-data-');
      const port = await freePort();
      const engine = start('bash', ['-c', 'cd "$1" && exec "$2" engine --rtsp-port "$3" --poll-interval 0.5', '_', temps.make('sie-engine-cwd-'), SIE, String(port)], {
        SIE_DATABASE_URL: db.url,
        SIE_MEDIA_ROOT: SHARED,
        SIE_DATA_DIR: engineData,
      });
      await engine.waitFor(/^engine: /m, 30_000);
      const id = await insertRun(db.pool, c.rows[0]!.id, `file://${PLAZA}`);
      const r = await waitForRun(db.pool, id, (x) => x.state === 'running' || x.state === 'failed' || x.state === 'completed', 90_000);
      expect(r, engine.stderr().slice(-2000)).toMatchObject({ error_kind: null });
      expect(existsSync(join(engineData, 'model-cache', `${sha256}.onnx`))).toBe(true);
    } finally {
      await killAll();
      await db.drop();
    }
  }, 150_000);
});

