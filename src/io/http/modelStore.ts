import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SieError } from '../../errors.js';
import { createDetector } from '../models/detector.js';
import type { ModelFormat } from '../models/modelSpec.js';
import { releaseSession } from '../models/session.js';
import { ApiError, unprocessable } from './errors.js';

/** A file part written to a temp file under the data dir, hashed on the way (never held in memory). */
export interface SavedUpload {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
  readonly filename: string;
}

export class ModelStore {
  readonly modelsDir: string;
  readonly tmpDir: string;

  constructor(readonly dataDir: string) {
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
    const hash = createHash('sha256');
    let size = 0;
    const tooLarge = new ApiError(413, 'too_large', `${field}: larger than the limit of ${maxBytes} bytes`);
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > maxBytes) return cb(tooLarge);
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(stream, tap, createWriteStream(path, { flags: 'wx' }));
      if (stream.truncated) throw tooLarge;
    } catch (err) {
      await unlink(path).catch(() => undefined);
      throw err;
    }
    return { path, sha256: hash.digest('hex'), size, filename };
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
      await releaseSession(weights.path);
    }
  }

  /**
   * Moves validated temp files to their content-addressed names. Renaming over an existing file is safe:
   * the same name means the same bytes (weights), or a deleted model's labels being replaced.
   */
  async commit(weights: SavedUpload, labels: SavedUpload): Promise<{ file: string; labels: string }> {
    const rel = this.relativePaths(weights.sha256);
    await rename(weights.path, join(resolve(this.dataDir), rel.file));
    await rename(labels.path, join(resolve(this.dataDir), rel.labels));
    return rel;
  }
}
