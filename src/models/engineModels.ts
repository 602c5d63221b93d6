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

/** Finds a run's weights: the engine's model cache, filled from PostgreSQL or the S3 store. */
export type ModelResolver = (modelId: string) => Promise<RunModel>;

/**
 * Where the weights of a row with models.object_url are read (src/io/s3/modelObjects.ts): the object's
 * bytes as they arrive. A missing object is a ModelError (final); any other throw is a fetch that broke,
 * which the cache tries again.
 */
export interface ModelObjectSource {
  read(objectUrl: string): AsyncIterable<Uint8Array>;
}

/**
 * Weights in the database (every upload since migration 0006) or in the S3 store (big models, 0011) come
 * through the cache, fetched on first use: the same sha256 and size check, the same retries and the same
 * eviction wherever they came from. A model uploaded before 0006, whose file the API has not copied in
 * yet, is read where such installs kept it, `<SIE_DATA_DIR>/<file_path>`: it runs on an engine that shares
 * the API's disk, as it always did; on another, the error says what to do. `objects` is undefined when this
 * engine has no S3 store configured: a model stored there fails its run saying which variables to set.
 */
export function modelResolver(o: { pool: Pool; cache: ModelCache; dataDir: string; objects?: ModelObjectSource }): ModelResolver {
  return async (modelId) => {
    const info = await getModelBlobInfo(o.pool, modelId);
    if (!info) throw new ModelError(`model ${modelId}: no such model`);
    const size = Number(info.size_bytes);
    if (info.object_url !== null) {
      const url = info.object_url;
      const objects = o.objects;
      if (!objects) {
        throw new ModelError(
          `model ${modelId}: its weights are in the S3 store (${url}) and this engine has none configured: ` +
            'set SIE_MODEL_S3_URL (and SIE_S3_ENDPOINT, SIE_S3_REGION for a server other than AWS S3) and the AWS credentials, as on the API',
        );
      }
      return o.cache.acquire(info.sha256, { size, fetch: () => objects.read(url) });
    }
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
    return o.cache.acquire(info.sha256, { size, fetch: () => readModelBlob(o.pool, info.sha256, chunks) });
  };
}
