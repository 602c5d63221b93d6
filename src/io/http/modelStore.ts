import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SieError } from '../../errors.js';
import { createDetector } from '../../inference/detector.js';
import type { ModelFormat } from '../../inference/modelSpec.js';
import { releaseModelSession } from '../../inference/modelSession.js';
import { hashingTap } from '../../models/hashingTap.js';
import { DEFAULT_CHUNK_BYTES, writeModelBlob, type WrittenBlob } from '../../models/modelBlobs.js';
import type { Queryable } from '../db/rows.js';
import { ApiError, unprocessable } from './errors.js';

/** A file part written to a temp file under the data dir, hashed on the way (never held in memory). */
export interface SavedUpload {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
  readonly filename: string;
}

/**
 * The uploads: the weights go into PostgreSQL (model_blobs, read by every engine), and a copy stays under
 * SIE_DATA_DIR/models as before, what engines of earlier versions sharing the API's disk still read.
 */
export class ModelStore {
  readonly modelsDir: string;
  readonly tmpDir: string;

  constructor(
    readonly dataDir: string,
    /** Bytes per model_blobs row. */
    readonly chunkBytes: number = DEFAULT_CHUNK_BYTES,
  ) {
    this.modelsDir = join(resolve(dataDir), 'models');
    // Temp files sit beside their final place so the final rename stays on one filesystem (atomic).
    this.tmpDir = join(this.modelsDir, '.tmp');
  }

  /** Paths relative to SIE_DATA_DIR, as stored in the models table. */
  relativePaths(sha256: string): { file: string; labels: string } {
    return { file: `models/${sha256}.onnx`, labels: `models/${sha256}.labels.txt` };
  }

  /**
   * Streams one part to a temp file while hashing and counting. Past `maxBytes` (or when busboy
   * truncated the part at its own limit) the temp file is removed and the request answered 413.
   */
  async save(field: string, stream: Readable & { truncated?: boolean }, filename: string, maxBytes: number): Promise<SavedUpload> {
    await mkdir(this.tmpDir, { recursive: true });
    const path = join(this.tmpDir, `${randomUUID()}.part`);
    const tooLarge = new ApiError(413, 'too_large', `${field}: larger than the limit of ${maxBytes} bytes`);
    const hashed = hashingTap({ maxBytes, tooLarge: () => tooLarge });
    try {
      await pipeline(stream, hashed.tap, createWriteStream(path, { flags: 'wx' }));
      if (stream.truncated) throw tooLarge;
    } catch (err) {
      await unlink(path).catch(() => undefined);
      throw err;
    }
    return { path, sha256: hashed.sha256(), size: hashed.bytes(), filename };
  }

  /**
   * Streams the validated temp file into model_blobs, on `db`, a client inside the transaction that writes
   * the models row: a failure throws and that transaction's ROLLBACK leaves no chunk behind. The bytes are
   * hashed again on the way, so the chunks are proved to be the file that was validated.
   */
  async storeBlob(db: Queryable, weights: SavedUpload): Promise<WrittenBlob> {
    return writeModelBlob(db, weights.sha256, createReadStream(weights.path), this.chunkBytes);
  }

  async discard(upload: SavedUpload | undefined): Promise<void> {
    if (upload) await unlink(upload.path).catch(() => undefined);
  }

  /**
   * Loads the weights in onnxruntime-node through the engine's own detector code and runs one
   * inference on a grey frame, so the output shape is checked against the format and the label count
   * even when the file declares it symbolically. The session is released: the API does not run models.
   * Model and config errors become 422 naming the uploaded file instead of the temp path.
   */
  async validate(weights: SavedUpload, labels: readonly string[], format: ModelFormat): Promise<{ width: number; height: number }> {
    try {
      const detector = await createDetector({ weightsPath: weights.path, labels, format, warmup: false });
      const width = 64;
      const height = 64;
      await detector.detect({ width, height, pixels: new Uint8Array((width * height * 3) / 2).fill(114) });
      return { width: detector.inputWidth, height: detector.inputHeight };
    } catch (err) {
      if (err instanceof SieError) throw unprocessable(`file: ${err.message.split(weights.path).join(weights.filename)}`);
      throw err;
    } finally {
      await releaseModelSession(weights.path);
    }
  }

  /**
   * Moves validated temp files to their content-addressed names, undoably: the caller does this inside the
   * transaction that records the row, and calls undo() when that transaction does not commit, so a failed
   * upload leaves the store as it was. A weights file already there is kept (the same name means the same
   * bytes: a deleted model's file, kept for its old config versions); a labels file already there is moved
   * aside first and put back by undo(), removed by done().
   */
  async place(weights: SavedUpload, labels: SavedUpload): Promise<Placement> {
    const rel = this.relativePaths(weights.sha256);
    const root = resolve(this.dataDir);
    const fileDst = join(root, rel.file);
    const labelsDst = join(root, rel.labels);
    const undoSteps: (() => Promise<void>)[] = [];
    const doneSteps: (() => Promise<void>)[] = [];
    const undo = async (): Promise<void> => {
      // Newest first: the new labels go before the old ones come back.
      for (const step of undoSteps.reverse()) await step().catch(() => undefined);
      undoSteps.length = 0;
    };
    try {
      if (!(await exists(fileDst))) {
        await rename(weights.path, fileDst);
        undoSteps.push(() => unlink(fileDst));
      }
      if (await exists(labelsDst)) {
        const aside = join(this.tmpDir, `${randomUUID()}.labels.old`);
        await rename(labelsDst, aside);
        undoSteps.push(() => rename(aside, labelsDst));
        doneSteps.push(() => unlink(aside));
      }
      await rename(labels.path, labelsDst);
      undoSteps.push(() => unlink(labelsDst));
    } catch (err) {
      await undo();
      throw err;
    }
    return {
      rel,
      undo,
      done: async () => {
        for (const step of doneSteps) await step().catch(() => undefined);
      },
    };
  }
}

/** Files moved into place by ModelStore.place, not yet final. */
export interface Placement {
  readonly rel: { file: string; labels: string };
  /** Puts the store back as it was before place(). */
  undo(): Promise<void>;
  /** The row is committed: drops what undo() would have needed. */
  done(): Promise<void>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
