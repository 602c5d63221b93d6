import { q, type Queryable } from '../rows.js';

/** One chunk of a model's weights (migration 0006). */
export async function insertModelBlobChunk(db: Queryable, sha256: string, seq: number, bytes: Buffer): Promise<void> {
  await q(db, `INSERT INTO model_blobs (sha256, seq, bytes) VALUES ($1, $2, $3)`, [sha256, seq, bytes]);
}

/** One chunk, or undefined past the last. Chunks never change once written: no transaction is needed. */
export async function selectModelBlobChunk(db: Queryable, sha256: string, seq: number): Promise<Buffer | undefined> {
  const { rows } = await q<{ bytes: Buffer }>(db, `SELECT bytes FROM model_blobs WHERE sha256 = $1 AND seq = $2`, [sha256, seq]);
  return rows[0]?.bytes;
}

/** Records that the weights are complete in model_blobs (called in the transaction that wrote them). */
export async function setModelBlobChunks(db: Queryable, sha256: string, chunks: number): Promise<void> {
  await q(db, `UPDATE models SET blob_chunks = $2 WHERE sha256 = $1`, [sha256, chunks]);
}

/** Drops a model's chunks (a partial copy, before it is written again). */
export async function deleteModelBlob(db: Queryable, sha256: string): Promise<void> {
  await q(db, `DELETE FROM model_blobs WHERE sha256 = $1`, [sha256]);
}

/** What an engine needs to find a model's weights. */
export interface ModelBlobInfo {
  sha256: string;
  size_bytes: string;
  /** NULL: not in the database: in the S3 store (object_url), or uploaded before 0006 and not copied yet (only `file_path` has it). */
  blob_chunks: number | null;
  /** s3://bucket/key: the weights are in the S3-compatible store (migration 0011). */
  object_url: string | null;
  /** Relative to SIE_DATA_DIR, where installs before 0006 kept the file. */
  file_path: string;
}

export async function getModelBlobInfo(db: Queryable, modelId: string): Promise<ModelBlobInfo | undefined> {
  const { rows } = await q<ModelBlobInfo>(db, `SELECT sha256, size_bytes::text, blob_chunks, object_url, file_path FROM models WHERE id = $1`, [modelId]);
  return rows[0];
}

/** Models whose weights are nowhere shared yet (uploaded before 0006: not in model_blobs, not in S3), oldest first. */
export async function modelsWithoutBlob(db: Queryable): Promise<{ id: string; sha256: string; file_path: string }[]> {
  const { rows } = await q<{ id: string; sha256: string; file_path: string }>(
    db,
    `SELECT id, sha256, file_path FROM models WHERE blob_chunks IS NULL AND object_url IS NULL ORDER BY created_at`,
  );
  return rows;
}

/** Locks one model row and says where its weights are (the copy checks again under the lock). */
export async function lockModelBlobState(db: Queryable, sha256: string): Promise<{ blob_chunks: number | null; object_url: string | null } | undefined> {
  const { rows } = await q<{ blob_chunks: number | null; object_url: string | null }>(
    db,
    `SELECT blob_chunks, object_url FROM models WHERE sha256 = $1 FOR UPDATE`,
    [sha256],
  );
  return rows[0];
}

/** Records that the weights are the S3 object at `objectUrl` (a restored model uploaded before 0006 gets them there). */
export async function setModelObjectUrl(db: Queryable, sha256: string, objectUrl: string): Promise<void> {
  await q(db, `UPDATE models SET object_url = $2 WHERE sha256 = $1`, [sha256, objectUrl]);
}
