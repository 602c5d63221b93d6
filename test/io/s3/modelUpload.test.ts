import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ModelStoreUnavailableError } from '../../../src/errors.js';
import { ModelObjects } from '../../../src/io/s3/modelObjects.js';
import { silentLogger } from '../../../src/log.js';
import { copyLegacyModels } from '../../../src/models/backfill.js';
import { startS3, type S3TestStore } from '../../helpers/s3.js';
import { LABELS, MODEL, modelForm, startApi, type Harness } from '../http/harness.js';

/**
 * POST /v1/models with the S3 store configured, on a real PostgreSQL and an in-process S3 (s3rver behind a
 * proxy the test can break): big weights go to the content-addressed key before the row, small ones to
 * model_blobs as before; a store that is down or refusing answers 503 and stores nothing; the secret key
 * is never in a log line or a body.
 */
let s3: S3TestStore;
let weights: Buffer;
let labels: string;
let sha256: string;
const opened: { h: Harness; objects: ModelObjects }[] = [];
const logLines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, cb) {
    logLines.push(chunk.toString());
    cb();
  },
});

beforeAll(async () => {
  s3 = await startS3();
  // The code under test finds its credentials the way production does: the SDK's default chain.
  vi.stubEnv('AWS_ACCESS_KEY_ID', s3.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', s3.secretAccessKey);
  weights = await readFile(MODEL);
  labels = await readFile(LABELS, 'utf8');
  sha256 = createHash('sha256').update(weights).digest('hex');
});
afterAll(async () => {
  for (const { h, objects } of opened) {
    await h.close();
    objects.close();
  }
  await s3.close();
  vi.unstubAllEnvs();
});

/** An API on a fresh database whose S3 store takes weights of `minBytes` and more. */
async function apiWithS3(minBytes: number): Promise<Harness> {
  const objects = await ModelObjects.create(s3.config({ minBytes }));
  const h = await startApi({ modelObjects: objects, logger: pino({ level: 'trace' }, sink) });
  opened.push({ h, objects });
  return h;
}

const upload = (h: Harness, name = 'nano') =>
  h.app.inject({ method: 'POST', url: '/v1/models', payload: modelForm({ file: weights, labels, name, format: 'yolox' }) });

async function rowOf(h: Harness, sha: string): Promise<{ object_url: string | null; blob_chunks: number | null; chunks: number } | undefined> {
  const r = await h.db.pool.query<{ object_url: string | null; blob_chunks: number | null; chunks: number }>(
    `SELECT object_url, blob_chunks, (SELECT count(*)::int FROM model_blobs b WHERE b.sha256 = m.sha256) AS chunks FROM models m WHERE sha256 = $1`,
    [sha],
  );
  return r.rows[0];
}

describe('POST /v1/models with an S3 store', () => {
  it('puts weights at or above the threshold at <prefix>/<sha256>.onnx, byte for byte, and the row names it with no chunks', async () => {
    const h = await apiWithS3(weights.length);
    const r = await upload(h);
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json()).toMatchObject({ sha256, size_bytes: weights.length, store: 's3' });
    expect(await rowOf(h, sha256)).toEqual({ object_url: `s3://${s3.bucket}/models/v1/${sha256}.onnx`, blob_chunks: null, chunks: 0 });
    const stored = await s3.getObject(`models/v1/${sha256}.onnx`);
    expect(stored?.equals(weights)).toBe(true);
    // GET says the same, and the same bytes again are the same model (200), not a second object or row.
    expect((await h.app.inject({ method: 'GET', url: `/v1/models/${r.json().id}` })).json().store).toBe('s3');
    const again = await upload(h, 'again');
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(r.json().id);
  });

  it('keeps weights below the threshold in PostgreSQL, as without S3', async () => {
    const h = await apiWithS3(weights.length + 1);
    await s3.deleteObject(`models/v1/${sha256}.onnx`);
    const r = await upload(h);
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json().store).toBe('postgres');
    const row = await rowOf(h, sha256);
    expect(row?.object_url).toBeNull();
    expect(row?.chunks).toBe(Math.ceil(weights.length / (1 << 20)));
    expect(row?.blob_chunks).toBe(row?.chunks);
    expect(await s3.getObject(`models/v1/${sha256}.onnx`)).toBeUndefined();
  });

  it('answers 503 naming the store while S3 refuses, stores no row, and 201 once it is back', async () => {
    const h = await apiWithS3(0);
    const before = (await h.app.inject({ method: 'GET', url: '/v1/models' })).json();
    s3.mode({ kind: 'refuse' });
    try {
      const r = await upload(h);
      expect(r.statusCode, r.body).toBe(503);
      const body = r.json();
      expect(body.error).toBe('model_store_unavailable');
      expect(body.detail).toContain(`s3://${s3.bucket}/models/v1 at ${s3.endpoint}`);
      expect(body.detail).toContain('nothing was stored');
      expect(r.body).not.toMatch(/\n\s+at /);
      expect(r.body).not.toContain(s3.secretAccessKey);
    } finally {
      s3.mode({ kind: 'pass' });
    }
    expect(await rowOf(h, sha256)).toBeUndefined();
    expect((await h.app.inject({ method: 'GET', url: '/v1/models' })).json()).toEqual(before);
    const later = await upload(h);
    expect(later.statusCode, later.body).toBe(201);
    expect(later.json().store).toBe('s3');
  });

  it('answers 503 when S3 denies the credentials, not 500', async () => {
    // This API's client finds an unknown key in the chain (read when a client first signs a request;
    // s3rver checks the key id, not the signature).
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'no-such-key');
    try {
      const h = await apiWithS3(0);
      const r = await upload(h);
      expect(r.statusCode, r.body).toBe(503);
      expect(r.json().error).toBe('model_store_unavailable');
      expect(r.json().detail).toMatch(/SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId/);
      expect(await rowOf(h, sha256)).toBeUndefined();
    } finally {
      vi.stubEnv('AWS_ACCESS_KEY_ID', s3.accessKeyId);
    }
  });

  it('migration 0011: weights in one place at most (chunks or an object), a row in neither (before 0006) still valid; the backfill leaves S3 models alone', async () => {
    const h = await apiWithS3(0);
    const r = await upload(h);
    expect(r.statusCode, r.body).toBe(201);
    await expect(h.db.pool.query(`UPDATE models SET blob_chunks = 4 WHERE sha256 = $1`, [sha256])).rejects.toThrow(/models_weights_in_one_place/);
    await expect(h.db.pool.query(`UPDATE models SET object_url = 'http://x/y' WHERE sha256 = $1`, [sha256])).rejects.toThrow(/check constraint/);
    const legacy = await h.db.pool.query(
      `INSERT INTO models (name, format, sha256, file_path, labels_path, size_bytes, input_width, input_height, labels)
       VALUES ('old', 'yolox', 'legacy-sha', 'models/legacy.onnx', 'models/legacy.labels.txt', 1, 416, 416, '["person"]') RETURNING blob_chunks, object_url`,
    );
    expect(legacy.rows[0]).toEqual({ blob_chunks: null, object_url: null });
    // The API's start copies models that are nowhere shared into PostgreSQL: not one that is in S3.
    const copied = await copyLegacyModels({ pool: h.db.pool, dataDir: h.dataDir, logger: silentLogger });
    expect(copied).toEqual({ copied: [], missing: [expect.any(String)], failed: [] });
    expect(await rowOf(h, sha256)).toMatchObject({ blob_chunks: null, chunks: 0 });
  });

  it('ModelObjects.put sends a file larger than a part as a multipart upload, byte for byte; bytes that do not hash to the name are refused', async () => {
    const objects = await ModelObjects.create(s3.config({ prefix: 'multipart' }));
    const dir = await mkdtemp(join(tmpdir(), 'sie-s3-put-'));
    try {
      const big = randomBytes(20 * 1024 * 1024 + 123);
      const path = join(dir, 'big.onnx');
      await writeFile(path, big);
      const bigSha = createHash('sha256').update(big).digest('hex');
      expect(await objects.put(bigSha, path)).toBe(`s3://${s3.bucket}/multipart/${bigSha}.onnx`);
      expect((await s3.getObject(`multipart/${bigSha}.onnx`))?.equals(big)).toBe(true);
      const wrong = '0'.repeat(64);
      const err = await objects.put(wrong, path).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(ModelStoreUnavailableError);
      expect((err as Error).message).toContain(`hash to ${bigSha}`);
      // Our own file missing is ours (a 500), not the store's.
      const gone = await objects.put(bigSha, join(dir, 'nope.onnx')).catch((e: unknown) => e);
      expect((gone as NodeJS.ErrnoException).code).toBe('ENOENT');
    } finally {
      objects.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('never writes the secret key to the log, nor into a response', () => {
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.some((l) => l.includes('model store unavailable'))).toBe(true);
    const all = logLines.join('');
    expect(all).not.toContain(s3.secretAccessKey);
  });
});
