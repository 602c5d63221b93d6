import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../../src/io/db/tx.js';
import { copyLegacyModels } from '../../src/models/backfill.js';
import { DEFAULT_CHUNK_BYTES, readModelBlob, rechunk, writeModelBlob } from '../../src/models/modelBlobs.js';
import { silentLogger } from '../../src/log.js';
import { LABELS, MODEL, modelForm, startApi, type Harness } from '../io/http/harness.js';

/**
 * The shared model store (migration 0006) on a real database with the real model: an upload puts the
 * weights into model_blobs in chunks, in the transaction of its row; what comes out hashes to the row's
 * sha256; a failed upload or a wrong hash stores nothing; models uploaded before are copied in at start.
 */
let h: Harness;
let weights: Buffer;
let labels: string;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  h = await startApi();
  weights = await readFile(MODEL);
  labels = await readFile(LABELS, 'utf8');
});
afterAll(() => h.close());

async function chunkRows(sha256: string): Promise<{ seq: number; n: number }[]> {
  const r = await h.db.pool.query<{ seq: number; n: number }>(`SELECT seq, length(bytes) AS n FROM model_blobs WHERE sha256 = $1 ORDER BY seq`, [sha256]);
  return r.rows;
}

async function readAll(sha256: string, chunks: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of readModelBlob(h.db.pool, sha256, chunks)) parts.push(c);
  return Buffer.concat(parts);
}

/** A models row as a pre-0006 upload left it: no chunks, the file (if any) under the data dir. */
async function legacyRow(sha256: string, filePath: string): Promise<string> {
  const r = await h.db.pool.query<{ id: string }>(
    `INSERT INTO models (name, format, sha256, file_path, labels_path, size_bytes, input_width, input_height, labels)
     VALUES ('old', 'yolox', $1, $2, 'models/x.labels.txt', $3, 416, 416, '["person"]') RETURNING id`,
    [sha256, filePath, weights.length],
  );
  return r.rows[0]!.id;
}

describe('rechunk', () => {
  it('cuts any stream into pieces of exactly the chunk size, the last shorter, the bytes unchanged', async () => {
    async function* odd() {
      for (const n of [1, 7, 3000, 5, 10_000, 2]) yield Buffer.alloc(n, n % 251);
    }
    const out: Buffer[] = [];
    for await (const c of rechunk(odd(), 4096)) out.push(Buffer.from(c));
    expect(out.map((c) => c.length)).toEqual([4096, 4096, 4096, 727]);
    const expected: Buffer[] = [];
    for await (const c of odd()) expected.push(c);
    expect(Buffer.concat(out).equals(Buffer.concat(expected))).toBe(true);
  });

  it('refuses a chunk size of 0 or above 4 MiB', async () => {
    const take = async (n: number) => {
      for await (const _ of rechunk([Buffer.alloc(1)], n)) void _;
    };
    await expect(take(0)).rejects.toThrow(/chunk size/);
    await expect(take(5 << 20)).rejects.toThrow(/chunk size/);
  });
});

describe('an upload', () => {
  it('stores the weights in model_blobs, in 1 MiB chunks, and they come back byte for byte', async () => {
    const r = await h.app.inject({ method: 'POST', url: '/v1/models', payload: modelForm({ file: weights, labels, name: 'nano', format: 'yolox' }) });
    expect(r.statusCode, r.body).toBe(201);
    const m = r.json();
    expect(m.sha256).toBe(sha(weights));
    const rows = await chunkRows(m.sha256);
    expect(rows).toHaveLength(Math.ceil(weights.length / DEFAULT_CHUNK_BYTES));
    expect(rows.slice(0, -1).every((c) => c.n === DEFAULT_CHUNK_BYTES)).toBe(true);
    const row = (await h.db.pool.query(`SELECT blob_chunks, labels FROM models WHERE id = $1`, [m.id])).rows[0];
    expect(row.blob_chunks).toBe(rows.length);
    // The labels are in the row already, as JSON: an engine needs no file for them.
    expect(row.labels).toEqual(labels.trim().split('\n'));
    const back = await readAll(m.sha256, row.blob_chunks);
    expect(sha(back)).toBe(m.sha256);
  });

  it('that fails validation stores no chunk', async () => {
    const before = (await h.db.pool.query(`SELECT count(*)::int AS n FROM model_blobs`)).rows[0].n;
    const notOnnx = Buffer.from('not an onnx graph\n'.repeat(1000));
    const r = await h.app.inject({ method: 'POST', url: '/v1/models', payload: modelForm({ file: notOnnx, labels, name: 'bad', format: 'yolox' }) });
    expect(r.statusCode).toBe(422);
    expect((await h.db.pool.query(`SELECT count(*)::int AS n FROM model_blobs`)).rows[0].n).toBe(before);
    expect(await chunkRows(sha(notOnnx))).toEqual([]);
  });
});

describe('writeModelBlob / readModelBlob', () => {
  it('with 64 KiB chunks: 56 rows for the 3.6 MB model, read back one by one, same sha256', async () => {
    // A row without chunks for the real model's bytes (the upload's row is replaced).
    const realSha = sha(weights);
    await h.db.pool.query(`DELETE FROM models WHERE sha256 = $1`, [realSha]);
    await legacyRow(realSha, 'nowhere.onnx');
    const written = await withTransaction(h.db.pool, (c) => writeModelBlob(c, realSha, [weights], 64 << 10));
    expect(written).toEqual({ chunks: Math.ceil(weights.length / (64 << 10)), size: weights.length });
    expect(written.chunks).toBe(56);
    const rows = await chunkRows(realSha);
    expect(rows.map((r) => r.seq)).toEqual([...Array(56).keys()]);
    expect(rows.slice(0, -1).every((r) => r.n === 64 << 10)).toBe(true);
    expect(sha(await readAll(realSha, 56))).toBe(realSha);
  });

  it('bytes that do not hash to the row’s sha256 roll back: no chunk, blob_chunks stays NULL', async () => {
    const fake = sha(Buffer.from('some other bytes'));
    await legacyRow(fake, 'nowhere.onnx');
    await expect(withTransaction(h.db.pool, (c) => writeModelBlob(c, fake, [weights], 64 << 10))).rejects.toThrow(/hash to/);
    expect(await chunkRows(fake)).toEqual([]);
    expect((await h.db.pool.query(`SELECT blob_chunks FROM models WHERE sha256 = $1`, [fake])).rows[0].blob_chunks).toBeNull();
  });

  it('a missing chunk is an error, not a short file', async () => {
    const realSha = sha(weights);
    await h.db.pool.query(`DELETE FROM model_blobs WHERE sha256 = $1 AND seq = 3`, [realSha]);
    await expect(readAll(realSha, 56)).rejects.toThrow(/chunk 3 of 56 is missing/);
  });
});

describe('models uploaded before the shared store', () => {
  it('are copied into the database by copyLegacyModels where the file is; the others are reported missing', async () => {
    const realSha = sha(weights);
    await h.db.pool.query(`DELETE FROM models WHERE sha256 = $1`, [realSha]);
    mkdirSync(join(h.dataDir, 'models'), { recursive: true });
    copyFileSync(MODEL, join(h.dataDir, `models/${realSha}.onnx`));
    const here = await legacyRow(realSha, `models/${realSha}.onnx`);
    const elsewhere = await legacyRow(sha(Buffer.from('on another disk')), 'models/elsewhere.onnx');
    const first = await copyLegacyModels({ pool: h.db.pool, dataDir: h.dataDir, logger: silentLogger, chunkBytes: 1 << 20 });
    expect(first.copied).toEqual([here]);
    expect(first.missing).toContain(elsewhere);
    const chunks = (await h.db.pool.query(`SELECT blob_chunks FROM models WHERE id = $1`, [here])).rows[0].blob_chunks;
    expect(chunks).toBe(4);
    expect(sha(await readAll(realSha, chunks))).toBe(realSha);
    // Once copied, never again.
    const second = await copyLegacyModels({ pool: h.db.pool, dataDir: h.dataDir, logger: silentLogger });
    expect(second.copied).toEqual([]);
  });
});

describe('memory', () => {
  it('160 MB through the chunk writer and reader: the process grows by far less than the blob', async () => {
    const total = 160 << 20;
    const piece = 256 << 10;
    // Deterministic, incompressible-looking bytes, generated piece by piece: never the whole blob at once.
    async function* synthetic() {
      let seed = 1;
      for (let off = 0; off < total; off += piece) {
        const b = Buffer.allocUnsafe(piece);
        for (let i = 0; i < piece; i += 4) b.writeUInt32LE((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0), i);
        yield b;
      }
    }
    const hash = createHash('sha256');
    for await (const b of synthetic()) hash.update(b);
    const blobSha = hash.digest('hex');
    await legacyRow(blobSha, 'synthetic.onnx');

    global.gc?.();
    const base = process.memoryUsage.rss();
    let peak = base;
    const sample = () => (peak = Math.max(peak, process.memoryUsage.rss()));
    const timer = setInterval(sample, 20);
    try {
      const written = await withTransaction(h.db.pool, async (c) => {
        async function* sampled() {
          for await (const b of synthetic()) {
            sample();
            yield b;
          }
        }
        return writeModelBlob(c, blobSha, sampled(), DEFAULT_CHUNK_BYTES);
      });
      expect(written.chunks).toBe(160);
      const back = createHash('sha256');
      let n = 0;
      for await (const c of readModelBlob(h.db.pool, blobSha, written.chunks)) {
        back.update(c);
        n += c.length;
        sample();
      }
      expect(n).toBe(total);
      expect(back.digest('hex')).toBe(blobSha);
    } finally {
      clearInterval(timer);
    }
    const grewMb = (peak - base) / 2 ** 20;
    console.log(`model store memory: 160 MB blob written and read back, RSS grew ${grewMb.toFixed(1)} MB at peak`);
    expect(grewMb).toBeLessThan(64);
  }, 120_000);
});
