import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { insertRun, waitForRun } from '../helpers/engineFixtures.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { freePort, killAll, start } from '../helpers/processes.js';
import { LABELS, MODEL, PLAZA, SHARED, SIE } from '../helpers/media.js';
import { startS3, type S3TestStore } from '../helpers/s3.js';
import { tempDirs } from '../helpers/tempDirs.js';

/**
 * The S3 store end to end, through the commands as deployed: `sie api` and `sie engine` as their own
 * processes, configured only by the environment (SIE_MODEL_S3_URL, SIE_S3_ENDPOINT, the SDK's AWS_*
 * credentials). The API puts the upload in the bucket; the engine, on its own empty disk, fetches it from
 * there and runs a run on it. Neither process prints the secret key.
 */
let s3: S3TestStore;
let db: TestDatabase;
const temps = tempDirs();

beforeAll(async () => {
  s3 = await startS3();
  db = await createTestDatabase();
});
afterEach(() => killAll());
afterAll(async () => {
  await db?.drop();
  await s3?.close();
  temps.removeAll();
});

describe('sie api and sie engine with SIE_MODEL_S3_URL', () => {
  it('the API stores the upload in S3, an engine with an empty disk fetches it from there (waiting in retrying while S3 is down) and runs it', async () => {
    const env = {
      SIE_DATABASE_URL: db.url,
      SIE_MEDIA_ROOT: SHARED,
      SIE_MODEL_S3_URL: `s3://${s3.bucket}/e2e`,
      SIE_S3_ENDPOINT: s3.endpoint,
      SIE_MODEL_S3_MIN_BYTES: '0',
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      SIE_LOG_FORMAT: 'json',
    };
    const port = await freePort();
    const api = start(SIE, ['api', '--port', String(port)], { ...env, SIE_DATA_DIR: temps.make('sie-api-data-') });
    await api.waitFor(/^sie api: /m, 30_000);
    const form = new FormData();
    form.append('name', 'nano');
    form.append('format', 'yolox');
    form.append('file', new Blob([await readFile(MODEL)]), 'yolox_nano.onnx');
    form.append('labels', new Blob([await readFile(LABELS)]), 'coco_classes.txt');
    const up = await fetch(`http://127.0.0.1:${port}/v1/models`, { method: 'POST', body: form });
    const model = (await up.json()) as { id: string; sha256: string; store: string };
    expect(up.status, JSON.stringify(model)).toBe(201);
    expect(model.store).toBe('s3');
    const sha256 = createHash('sha256').update(await readFile(MODEL)).digest('hex');
    expect(model.sha256).toBe(sha256);
    expect((await s3.getObject(`e2e/${sha256}.onnx`))?.length).toBe((await readFile(MODEL)).length);
    const config = await fetch(`http://127.0.0.1:${port}/v1/configs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'acme', name: 'c', model_id: model.id }),
    });
    expect(config.status).toBe(201);
    const configId = ((await config.json()) as { id: string }).id;

    const engineData = temps.make('sie-engine-data-');
    const engine = start(SIE, ['engine', '--rtsp-port', String(await freePort()), '--poll-interval', '0.5'], { ...env, SIE_DATA_DIR: engineData });
    await engine.waitFor(/^engine: /m, 30_000);
    // The store down when the engine first needs the model: the run waits in retrying (not failed for good)
    // and loads it once the store answers again.
    s3.mode({ kind: 'refuse' });
    const id = await insertRun(db.pool, configId, `file://${PLAZA}`);
    const waiting = await waitForRun(db.pool, id, (x) => x.state === 'retrying' || x.state === 'failed' || x.state === 'running', 60_000);
    expect(waiting, engine.stderr().slice(-2000)).toMatchObject({ state: 'retrying', error_kind: 'model_error' });
    s3.mode({ kind: 'pass' });
    const r = await waitForRun(db.pool, id, (x) => x.state === 'running' || x.state === 'failed' || x.state === 'completed', 90_000);
    expect(r, engine.stderr().slice(-2000)).toMatchObject({ error_kind: null });
    expect(['running', 'completed']).toContain(r.state);
    expect(engine.stderr()).toMatch(/model store: the weights of models stored in S3 are read from it/);
    expect(engine.stderr().match(/model cache: fetched/g)).toHaveLength(1);
    expect((await readFile(join(engineData, 'model-cache', `${sha256}.onnx`))).equals(await readFile(MODEL))).toBe(true);
    expect(api.stderr()).toMatch(/weights of minBytes and more go to S3/);
    for (const p of [api, engine]) {
      expect(p.stderr() + p.stdout()).not.toContain(s3.secretAccessKey);
      // The logs stay one JSON object a line: the SDK's own Node version warning is not printed as text.
      for (const line of p.stderr().split('\n').filter(Boolean)) expect(() => JSON.parse(line), line).not.toThrow();
    }
  }, 150_000);
});
