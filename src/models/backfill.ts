import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { lockModelBlobState, modelsWithoutBlob } from '../io/db/sql/modelBlobs.js';
import { withTransaction } from '../io/db/tx.js';
import type { Logger } from '../log.js';
import { DEFAULT_CHUNK_BYTES, writeModelBlob } from './modelBlobs.js';

export interface BackfillResult {
  /** Copied into model_blobs by this call. */
  readonly copied: string[];
  /** No file under the data dir (another API's disk, or gone): left as they were. */
  readonly missing: string[];
  /** A file whose bytes do not hash to the row's sha256 (or another error): left as they were. */
  readonly failed: string[];
}

/**
 * Models uploaded before the shared store (migration 0006) have their weights only on the disk of the API
 * that took them. At start the API copies each one whose file it has into the database, one model per
 * transaction, the row locked and checked again first (two APIs starting together copy it once); the bytes
 * are hashed on the way and a mismatch rolls the copy back. A model whose file is elsewhere keeps running
 * where the file is (the engine falls back to `<SIE_DATA_DIR>/<file_path>`) and is copied by the API that has it.
 */
export async function copyLegacyModels(o: { pool: Pool; dataDir: string; logger: Logger; chunkBytes?: number }): Promise<BackfillResult> {
  const result: BackfillResult = { copied: [], missing: [], failed: [] };
  for (const m of await modelsWithoutBlob(o.pool)) {
    const path = join(o.dataDir, m.file_path);
    try {
      await access(path);
    } catch {
      result.missing.push(m.id);
      continue;
    }
    try {
      const copied = await withTransaction(o.pool, async (c) => {
        const state = await lockModelBlobState(c, m.sha256);
        // Shared meanwhile (copied by another API, or restored into the S3 store): nothing to do.
        if (!state || state.blob_chunks !== null || state.object_url !== null) return false;
        await writeModelBlob(c, m.sha256, createReadStream(path), o.chunkBytes ?? DEFAULT_CHUNK_BYTES);
        return true;
      });
      if (copied) {
        result.copied.push(m.id);
        o.logger.info({ model: m.id, sha256: m.sha256, path }, 'model store: weights uploaded before 0006 copied into the database');
      }
    } catch (err) {
      result.failed.push(m.id);
      o.logger.warn({ model: m.id, sha256: m.sha256, path, err: (err as Error).message }, 'model store: could not copy the weights into the database');
    }
  }
  if (result.missing.length > 0) {
    o.logger.warn(
      { models: result.missing, dataDir: o.dataDir },
      'model store: weights of models uploaded before 0006 are not in the database nor under SIE_DATA_DIR; they run only where their file is',
    );
  }
  return result;
}
