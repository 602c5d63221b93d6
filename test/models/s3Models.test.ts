import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ModelError } from '../../src/errors.js';
import { ModelObjects } from '../../src/io/s3/modelObjects.js';
import { modelResolver } from '../../src/models/engineModels.js';
import { ModelCache } from '../../src/models/modelCache.js';
import { startS3, type S3TestStore } from '../helpers/s3.js';
import { LABELS, MODEL, modelForm, startApi, type Harness } from '../io/http/harness.js';

/**
 * The engine's side of the S3 store: a row with object_url is fetched from the bucket into the engine's
 * model cache, through the same checks as a PostgreSQL model (sha256 and size, retries of a broken fetch,
 * no second fetch of a verified file). Real PostgreSQL, real model, s3rver behind a proxy that refuses or
 * cuts transfers on demand.
 */
let s3: S3TestStore;
let h: Harness;
let objects: ModelObjects;
let weights: Buffer;
let sha256: string;
let modelId = '';
let key = '';
const dirs: string[] = [];
let lines: { msg: string }[] = [];
const logger = pino(
  { level: 'info' },
  new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as { msg: string });
      cb();
    },
  }),
);

beforeAll(async () => {
  s3 = await startS3();
  vi.stubEnv('AWS_ACCESS_KEY_ID', s3.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', s3.secretAccessKey);
  objects = await ModelObjects.create(s3.config({ minBytes: 0 }));
  h = await startApi({ modelObjects: objects });
  weights = await readFile(MODEL);
  sha256 = createHash('sha256').update(weights).digest('hex');
  const up = await h.app.inject({
    method: 'POST',
    url: '/v1/models',
    payload: modelForm({ file: weights, labels: await readFile(LABELS, 'utf8'), name: 'nano', format: 'yolox' }),
  });
  expect(up.statusCode, up.body).toBe(201);
  expect(up.json().store).toBe('s3');
  modelId = up.json().id;
  key = `models/v1/${sha256}.onnx`;
});
afterAll(async () => {
  await h?.close();
  objects?.close();
  await s3?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  vi.unstubAllEnvs();
});
beforeEach(() => {
  lines = [];
  s3.mode({ kind: 'pass' });
});

/** A fresh engine cache (a new engine's disk), retrying a broken fetch 3 times, 10 ms apart. */
function freshCache(dir = mkdtempSync(join(tmpdir(), 'sie-s3-cache-'))): ModelCache {
  dirs.push(dir);
  return new ModelCache({ dir, maxBytes: 1 << 30, logger, fetchAttempts: 3, retryDelayMs: 10 });
}
/** `null`: an engine without SIE_MODEL_S3_URL. */
const resolverOn = (cache: ModelCache, withObjects: ModelObjects | null = objects) =>
  modelResolver({ pool: h.db.pool, cache, dataDir: h.dataDir, ...(withObjects ? { objects: withObjects } : {}) });
const retries = () => lines.filter((l) => l.msg === 'model cache: fetch failed; trying again').length;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('a model stored in S3, on an engine', () => {
  it('is fetched into a fresh cache, hashes to its sha256, and is not fetched again once there', async () => {
    const cache = freshCache();
    const resolve = resolverOn(cache);
    const before = s3.connections();
    const m = await resolve(modelId);
    expect(m.path).toBe(cache.pathOf(sha256));
    expect(sha(await readFile(m.path))).toBe(sha256);
    expect(cache.fetches).toBe(1);
    expect(s3.connections()).toBeGreaterThan(before);
    m.release();
    // Used again (hashed on disk, not fetched), and by a restarted engine on the same disk.
    const again = await resolve(modelId);
    again.release();
    const restarted = freshCache(cache.dir);
    (await resolverOn(restarted)(modelId)).release();
    expect(cache.fetches + restarted.fetches).toBe(1);
    expect(retries()).toBe(0);
  });

  it('refuses an object whose bytes were replaced: a model error, nothing put in the cache', async () => {
    const other = Buffer.from(weights);
    other[1000] = other[1000]! ^ 0xff;
    await s3.putObject(key, other);
    try {
      const cache = freshCache();
      const err = await resolverOn(cache)(modelId).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelError);
      expect((err as Error).message).toContain(`hash to ${sha(other)}`);
      expect(existsSync(cache.pathOf(sha256))).toBe(false);
      expect(retries()).toBe(0);
    } finally {
      await s3.putObject(key, weights);
    }
  });

  it('fails with a model error naming the key when the object was deleted, without retrying', async () => {
    await s3.deleteObject(key);
    try {
      const err = await resolverOn(freshCache())(modelId).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelError);
      expect((err as Error).message).toContain(key);
      expect((err as Error).message).toMatch(/NoSuchKey/);
      expect(retries()).toBe(0);
    } finally {
      await s3.putObject(key, weights);
    }
  });

  it('retries a fetch that breaks mid-way and gets the whole model on the next try', async () => {
    s3.mode({ kind: 'cut', bytes: 1_000_000, times: 1 });
    const cache = freshCache();
    const m = await resolverOn(cache)(modelId);
    expect(sha(await readFile(m.path))).toBe(sha256);
    m.release();
    expect(retries()).toBe(1);
    expect(cache.fetches).toBe(1);
  });

  it('retries while S3 is down, then fails the run with a model error, nothing in the cache', async () => {
    s3.mode({ kind: 'refuse' });
    const cache = freshCache();
    const err = await resolverOn(cache)(modelId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/could not fetch its weights/);
    expect(retries()).toBe(2);
    expect(existsSync(cache.pathOf(sha256))).toBe(false);
    // Every try breaks mid-way: the same end.
    s3.mode({ kind: 'cut', bytes: 500_000, times: 10 });
    lines = [];
    await expect(resolverOn(freshCache())(modelId)).rejects.toThrow(ModelError);
    expect(retries()).toBe(2);
  });

  it('on an engine without S3 configured: a model error saying which variables to set', async () => {
    const err = await resolverOn(freshCache(), null)(modelId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toContain(`s3://${s3.bucket}/${key}`);
    expect((err as Error).message).toMatch(/SIE_MODEL_S3_URL.*SIE_S3_ENDPOINT/);
  });
});
