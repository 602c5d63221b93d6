import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../../src/io/db/tx.js';
import { ModelError } from '../../src/errors.js';
import { readModelBlob, writeModelBlob } from '../../src/models/modelBlobs.js';
import { ModelCache } from '../../src/models/modelCache.js';
import { modelResolver } from '../../src/models/engineModels.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { MODEL } from '../helpers/media.js';

/**
 * The engine's model cache on a real database and the real model (64 KiB chunks, 56 of them): fetched once,
 * verified, a corrupt copy found and fetched again, a bad download never used, eviction LRU under a cap,
 * never a model a run holds.
 */
let db: TestDatabase;
let weights: Buffer;
let realSha: string;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const dirs: string[] = [];

function newCache(maxBytes = 1 << 30): ModelCache {
  const dir = mkdtempSync(join(tmpdir(), 'sie-model-cache-'));
  dirs.push(dir);
  return new ModelCache({ dir, maxBytes, retryDelayMs: 10 });
}

/** The real model's chunks from the database, counting the chunk reads. */
function fromDb(counter: { reads: number } = { reads: 0 }) {
  return {
    size: weights.length,
    fetch: async function* () {
      for await (const c of readModelBlob(db.pool, realSha, 56)) {
        counter.reads++;
        yield c;
      }
    },
  };
}

/** Bytes that are not a model, under their own sha256: filler for the eviction tests. */
function filler(n: number, seed: number) {
  const bytes = Buffer.alloc(n, seed);
  return { sha256: sha(bytes), o: { size: n, fetch: async function* () { yield bytes; } } };
}

beforeAll(async () => {
  db = await createTestDatabase();
  weights = await readFile(MODEL);
  realSha = sha(weights);
  await db.pool.query(
    `INSERT INTO models (name, format, sha256, file_path, labels_path, size_bytes, input_width, input_height, labels)
     VALUES ('nano', 'yolox', $1, 'models/x.onnx', 'models/x.labels.txt', $2, 416, 416, '["person"]')`,
    [realSha, weights.length],
  );
  await withTransaction(db.pool, (c) => writeModelBlob(c, realSha, [weights], 64 << 10));
});
afterAll(async () => {
  await db?.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('ModelCache', () => {
  it('fetches on first use, verified, and concurrent acquires share the one fetch', async () => {
    const cache = newCache();
    const counter = { reads: 0 };
    const held = await Promise.all([1, 2, 3, 4].map(() => cache.acquire(realSha, fromDb(counter))));
    expect(cache.fetches).toBe(1);
    expect(counter.reads).toBe(56);
    expect(new Set(held.map((m) => m.path))).toEqual(new Set([cache.pathOf(realSha)]));
    expect(sha(await readFile(cache.pathOf(realSha)))).toBe(realSha);
    // Nothing left in the temp dir.
    expect(readdirSync(join(cache.dir, '.tmp'))).toEqual([]);
    held.forEach((m) => m.release());
    // Present and right: the next acquire reads the file, not the database.
    const again = await cache.acquire(realSha, fromDb(counter));
    expect(cache.fetches).toBe(1);
    again.release();
  });

  it('a corrupt file in the cache is detected at the next use and fetched again', async () => {
    const cache = newCache();
    (await cache.acquire(realSha, fromDb())).release();
    const bad = Buffer.from(weights);
    bad[1000] = bad[1000]! ^ 0xff;
    writeFileSync(cache.pathOf(realSha), bad);
    const m = await cache.acquire(realSha, fromDb());
    expect(cache.fetches).toBe(2);
    expect(sha(await readFile(m.path))).toBe(realSha);
    m.release();
    // A truncated one too (a copy cut short by hand).
    writeFileSync(cache.pathOf(realSha), weights.subarray(0, 1000));
    (await cache.acquire(realSha, fromDb())).release();
    expect(cache.fetches).toBe(3);
  });

  it('a download that does not hash right, or breaks off, is never put in place', async () => {
    const cache = newCache();
    const wrong = { size: weights.length, fetch: async function* () { yield weights.subarray(0, 100); yield Buffer.alloc(weights.length - 100); } };
    await expect(cache.acquire(realSha, wrong)).rejects.toThrow(ModelError);
    await expect(cache.acquire(realSha, wrong)).rejects.toThrow(/hash to/);
    const broken = {
      fetch: async function* () {
        yield weights.subarray(0, 1 << 20);
        throw new Error('connection terminated');
      },
    };
    await expect(cache.acquire(realSha, broken)).rejects.toThrow(/could not fetch its weights: connection terminated/);
    expect(readdirSync(cache.dir).filter((n) => n.endsWith('.onnx'))).toEqual([]);
    expect(readdirSync(join(cache.dir, '.tmp'))).toEqual([]);
    expect(cache.isPinned(realSha)).toBe(false);
    // A fetch that breaks once (a database restart) is tried again and the model is used.
    let calls = 0;
    const flaky = {
      size: weights.length,
      fetch: async function* () {
        if (calls++ === 0) {
          yield weights.subarray(0, 1000);
          throw new Error('terminating connection due to administrator command');
        }
        yield* fromDb().fetch();
      },
    };
    const m = await cache.acquire(realSha, flaky);
    expect(calls).toBe(2);
    expect(sha(await readFile(m.path))).toBe(realSha);
    m.release();
    await cache.evict();
    expect(cache.fetches).toBe(1);
    rmSync(m.path);
    // And a good fetch afterwards works.
    (await cache.acquire(realSha, fromDb())).release();
    expect(cache.fetches).toBe(2);
  });

  it('over its cap it evicts the least recently used models, never one a run holds', async () => {
    const cache = newCache(3000);
    const a = filler(1000, 1);
    const b = filler(1000, 2);
    const c = filler(1000, 3);
    const d = filler(1000, 4);
    const ma = await cache.acquire(a.sha256, a.o);
    (await cache.acquire(b.sha256, b.o)).release();
    (await cache.acquire(c.sha256, c.o)).release();
    // b is older than c; a is older still but held by a run.
    const past = (s: number) => new Date(Date.now() - s * 1000);
    utimesSync(cache.pathOf(a.sha256), past(300), past(300));
    utimesSync(cache.pathOf(b.sha256), past(200), past(200));
    utimesSync(cache.pathOf(c.sha256), past(100), past(100));
    const md = await cache.acquire(d.sha256, d.o);
    const left = (await cache.list()).map((f) => f.sha256).sort();
    expect(left).toEqual([a.sha256, c.sha256, d.sha256].sort());
    // a released: it is the oldest now and goes at the next acquire past the cap.
    ma.release();
    const e = filler(1000, 5);
    (await cache.acquire(e.sha256, e.o)).release();
    expect((await cache.list()).map((f) => f.sha256).sort()).toEqual([c.sha256, d.sha256, e.sha256].sort());
    md.release();
  });

  it('a model larger than the cap still runs while held, and goes once released', async () => {
    const cache = newCache(1000);
    const big = filler(5000, 9);
    const m = await cache.acquire(big.sha256, big.o);
    expect((await cache.list()).map((f) => f.sha256)).toEqual([big.sha256]);
    m.release();
    await cache.evict();
    expect(await cache.list()).toEqual([]);
  });

  it('refuses a name that is not a sha256 (it becomes a path)', async () => {
    await expect(newCache().acquire('../../etc/passwd', filler(1, 1).o)).rejects.toThrow(/not a sha256/);
  });
});

describe('modelResolver', () => {
  it('a model in the database comes through the cache; one uploaded before runs from SIE_DATA_DIR, or says where it is', async () => {
    const cache = newCache();
    const dataDir = mkdtempSync(join(tmpdir(), 'sie-resolver-'));
    dirs.push(dataDir);
    const resolve = modelResolver({ pool: db.pool, cache, dataDir });
    const inDb = (await db.pool.query<{ id: string }>(`SELECT id FROM models WHERE sha256 = $1`, [realSha])).rows[0]!.id;
    const m = await resolve(inDb);
    expect(m.path).toBe(cache.pathOf(realSha));
    expect(cache.isPinned(realSha)).toBe(true);
    m.release();
    expect(cache.isPinned(realSha)).toBe(false);

    const old = await db.pool.query<{ id: string }>(
      `INSERT INTO models (name, format, sha256, file_path, labels_path, size_bytes, input_width, input_height, labels)
       VALUES ('old', 'yolox', $1, 'models/old.onnx', 'models/old.labels.txt', 10, 416, 416, '["person"]') RETURNING id`,
      [sha(Buffer.from('old'))],
    );
    await expect(resolve(old.rows[0]!.id)).rejects.toThrow(/model file not found: .*models\/old\.onnx: its weights are not in the database.*sie api/);
    mkdirSync(join(dataDir, 'models'));
    writeFileSync(join(dataDir, 'models/old.onnx'), 'x');
    expect((await resolve(old.rows[0]!.id)).path).toBe(join(dataDir, 'models/old.onnx'));
    await expect(resolve('00000000-0000-0000-0000-000000000000')).rejects.toThrow(/no such model/);
  });
});

