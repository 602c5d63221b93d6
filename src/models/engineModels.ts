import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { ModelError } from '../errors.js';
import { getModelBlobInfo } from '../io/db/sql/modelBlobs.js';
import { readModelBlob } from './modelBlobs.js';
import type { ModelCache } from './modelCache.js';

/** The weights file one run loads, held until release(). */
export interface RunModel {
  readonly path: string;
  release(): void;
}

/** Finds a run's weights: the engine's model cache, filled from PostgreSQL. */
export type ModelResolver = (modelId: string) => Promise<RunModel>;

/**
 * Weights in the database (every upload since migration 0006) come through the cache, fetched on first use.
 * A model uploaded before, whose file the API has not copied in yet, is read where such installs kept it,
 * `<SIE_DATA_DIR>/<file_path>`: it runs on an engine that shares the API's disk, as it always did; on
 * another, the error says what to do.
 */
export function modelResolver(o: { pool: Pool; cache: ModelCache; dataDir: string }): ModelResolver {
  return async (modelId) => {
    const info = await getModelBlobInfo(o.pool, modelId);
    if (!info) throw new ModelError(`model ${modelId}: no such model`);
    if (info.blob_chunks === null) {
      const path = join(o.dataDir, info.file_path);
      try {
        await access(path);
      } catch (err) {
        throw new ModelError(
          `model file not found: ${path}: its weights are not in the database (uploaded before the shared model store); ` +
            'start `sie api` where the file is (it copies it in at start) or upload the model again',
          { cause: err },
        );
      }
      return { path, release: () => undefined };
    }
    const chunks = info.blob_chunks;
    return o.cache.acquire(info.sha256, { size: Number(info.size_bytes), fetch: () => readModelBlob(o.pool, info.sha256, chunks) });
  };
}

