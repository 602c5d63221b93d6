import { createHash } from 'node:crypto';
import { ModelError } from '../errors.js';
import type { Queryable } from '../io/db/rows.js';
import { insertModelBlobChunk, selectModelBlobChunk, setModelBlobChunks } from '../io/db/sql/modelBlobs.js';

/**
 * 1 MiB: small enough that a chunk in flight (the Buffer, pg's hex text of it, the server's copy) stays a few
 * MB on either side, large enough that a 500 MB model is 500 rows and as many round trips.
 */
export const DEFAULT_CHUNK_BYTES = 1 << 20;
/** Larger chunks buy nothing and cost memory on every engine fetching them. */
export const MAX_CHUNK_BYTES = 4 << 20;

/** Bytes in pieces of any size: a file's read stream, a generator, an array of buffers. */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * Cuts a byte stream into pieces of exactly `chunkBytes` (the last one shorter), whatever sizes arrive:
 * at most one chunk is buffered here, so the memory a model costs on its way in is one chunk, not the file.
 */
export async function* rechunk(source: ByteSource, chunkBytes: number): AsyncGenerator<Buffer> {
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > MAX_CHUNK_BYTES) {
    throw new RangeError(`chunk size must be an integer from 1 to ${MAX_CHUNK_BYTES} bytes, got ${chunkBytes}`);
  }
  let buf = Buffer.allocUnsafe(chunkBytes);
  let filled = 0;
  for await (const piece of source) {
    let off = 0;
    while (off < piece.length) {
      const n = Math.min(chunkBytes - filled, piece.length - off);
      buf.set(piece.subarray(off, off + n), filled);
      filled += n;
      off += n;
      if (filled === chunkBytes) {
        yield buf;
        buf = Buffer.allocUnsafe(chunkBytes);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buf.subarray(0, filled);
}

export interface WrittenBlob {
  readonly chunks: number;
  readonly size: number;
}

/**
 * Writes weights into model_blobs as numbered chunks and marks the models row complete (blob_chunks), on
 * `db`, which must be a client inside the transaction that owns the row: a failure anywhere (a database
 * error, bytes that do not hash to `sha256`) throws, and the caller's ROLLBACK takes every chunk back.
 * The bytes are hashed on the way, so what is stored is proved to be what the row names.
 */
export async function writeModelBlob(
  db: Queryable,
  sha256: string,
  source: ByteSource,
  chunkBytes: number = DEFAULT_CHUNK_BYTES,
): Promise<WrittenBlob> {
  const hash = createHash('sha256');
  let seq = 0;
  let size = 0;
  for await (const chunk of rechunk(source, chunkBytes)) {
    hash.update(chunk);
    await insertModelBlobChunk(db, sha256, seq++, chunk);
    size += chunk.length;
  }
  const got = hash.digest('hex');
  if (got !== sha256) throw new ModelError(`model ${sha256}: the bytes written hash to ${got}; nothing stored`);
  if (seq === 0) throw new ModelError(`model ${sha256}: no bytes to store`);
  await setModelBlobChunks(db, sha256, seq);
  return { chunks: seq, size };
}

/**
 * The weights from model_blobs, one chunk per query, in order: a reader that writes each chunk out before
 * asking for the next holds one chunk at a time. A missing chunk (a row deleted by hand) throws; the bytes
 * are verified against the sha256 by whoever stores them (the engine's cache).
 */
export async function* readModelBlob(db: Queryable, sha256: string, chunks: number): AsyncGenerator<Buffer> {
  for (let seq = 0; seq < chunks; seq++) {
    const bytes = await selectModelBlobChunk(db, sha256, seq);
    if (!bytes) throw new ModelError(`model ${sha256}: chunk ${seq} of ${chunks} is missing from model_blobs`);
    yield bytes;
  }
}
