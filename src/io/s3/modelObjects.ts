import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { ModelError, ModelStoreUnavailableError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { hashingTap } from '../../models/hashingTap.js';
import { createS3Client, type S3Handle } from './client.js';
import { describeModelS3, type ModelS3Config } from './config.js';

/**
 * 8 MiB parts, 2 in flight: an upload holds at most 16 MiB of the model in memory whatever its size (S3's
 * minimum part is 5 MiB; a 500 MB model is 60 parts). A model smaller than one part is one PutObject.
 */
const PART_BYTES = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;

/**
 * Big models' weights in an S3-compatible bucket, content-addressed: `<prefix>/<sha256>.onnx`. The same
 * bytes always go to the same key, so writing them again is harmless (the object is replaced by itself),
 * and an object whose models row never committed (the upload's transaction failed after the PUT) is an
 * orphan that costs its size and nothing else: the next upload of those bytes writes it again and uses
 * it. The models row names the object by its full URL (`s3://bucket/key`, models.object_url): an engine
 * reads exactly what the row says, whatever prefix the API is configured with later.
 */
export class ModelObjects {
  /** The store as messages and logs name it (no secret: see config.ts). */
  readonly name: string;

  constructor(
    private readonly s3: S3Handle,
    readonly config: ModelS3Config,
  ) {
    this.name = describeModelS3(config);
  }

  static async create(config: ModelS3Config, logger?: Logger): Promise<ModelObjects> {
    return new ModelObjects(await createS3Client(config, logger), config);
  }

  /** Whether weights of this size belong here (SIE_MODEL_S3_MIN_BYTES and above) rather than in PostgreSQL. */
  takes(size: number): boolean {
    return size >= this.config.minBytes;
  }

  keyOf(sha256: string): string {
    return this.config.prefix ? `${this.config.prefix}/${sha256}.onnx` : `${sha256}.onnx`;
  }

  urlOf(sha256: string): string {
    return `s3://${this.config.bucket}/${this.keyOf(sha256)}`;
  }

  /**
   * Streams the validated file at `path` to its content-addressed key and returns the object's URL. The
   * bytes are hashed on the way, so the object is proved to be the file that was validated. Memory stays
   * bounded (parts of 8 MiB, 2 at once). The store failing (unreachable, 5xx, denied, no such bucket, a
   * socket gone silent) is a ModelStoreUnavailableError; our own file failing to read is thrown as it is.
   */
  async put(sha256: string, path: string): Promise<string> {
    const key = this.keyOf(sha256);
    const hashed = hashingTap();
    let readError: unknown;
    const file = createReadStream(path);
    // Our own file failing (not the store): told apart by where the error came from.
    file.once('error', (err) => {
      readError = err;
    });
    // pipeline, not pipe: a read error reaches the body the SDK reads, which fails the upload.
    const body = pipeline(file, hashed.tap, () => undefined);
    const upload = new this.s3.storage.Upload({
      client: this.s3.client,
      params: { Bucket: this.config.bucket, Key: key, Body: body, ContentType: 'application/octet-stream' },
      partSize: PART_BYTES,
      queueSize: PARTS_IN_FLIGHT,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      if (readError) throw readError;
      throw new ModelStoreUnavailableError(this.name, `model store ${this.name}: could not store ${key}: ${describeS3Error(err)}`, { cause: err });
    } finally {
      // The SDK stops reading when a request fails: the file must not stay open behind it.
      file.destroy();
      body.destroy();
    }
    const got = hashed.sha256();
    // The file changed after it was validated (it never should). The object is left: a concurrent upload
    // of the right bytes may have written the same key, and an engine checks the sha256 before any use.
    if (got !== sha256) throw new Error(`model ${sha256}: the bytes sent to ${key} hash to ${got}`);
    return this.urlOf(sha256);
  }

  /**
   * The object's bytes as they arrive (GetObject's body, one network read at a time: nothing buffered
   * here), for the engine's model cache, which hashes and counts them and retries a fetch that breaks. A
   * missing object, bucket or a refused access is a ModelError (fetching again gives the same answer); an
   * unreachable store or a connection cut mid-way is a plain Error, which the cache retries.
   */
  async *read(objectUrl: string): AsyncGenerator<Uint8Array> {
    const where = parseObjectUrl(objectUrl);
    if (!where) throw new ModelError(`model weights ${objectUrl}: not an s3://BUCKET/KEY URL`);
    let res: GetObjectCommandOutput;
    try {
      res = await this.s3.client.send(new this.s3.sdk.GetObjectCommand({ Bucket: where.bucket, Key: where.key }));
    } catch (err) {
      const status = httpStatus(err);
      const code = (err as { name?: string }).name ?? '';
      if (status === 404 || code === 'NoSuchKey' || code === 'NoSuchBucket' || code === 'NotFound') {
        throw new ModelError(
          `model weights ${objectUrl}: not in the store (${code || 'HTTP 404'}): key ${where.key} of bucket ${where.bucket} was removed? Upload the model again`,
          { cause: err },
        );
      }
      if (status === 403 || code === 'AccessDenied' || code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch') {
        throw new ModelError(
          `model weights ${objectUrl}: the store refused access (${describeS3Error(err)}): check this engine's AWS credentials`,
          { cause: err },
        );
      }
      throw new Error(`${this.name}: ${describeS3Error(err)}`, { cause: err });
    }
    const body: unknown = res.Body;
    if (!isAsyncIterable(body)) throw new Error(`${this.name}: GetObject ${where.key} answered without a body`);
    yield* body;
  }

  /** Closes the client's idle keep-alive connections (at shutdown). */
  close(): void {
    this.s3.client.destroy();
  }
}

/** s3://bucket/key → its parts; undefined when it is not one. */
export function parseObjectUrl(url: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  return m ? { bucket: m[1]!, key: m[2]! } : undefined;
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/**
 * What the store said, short: the SDK's error name, the HTTP status when there was one, its message. No
 * stack, no request (signed headers, never credentials themselves, stay out of messages).
 */
export function describeS3Error(err: unknown): string {
  const e = err as { name?: string; message?: string; code?: string };
  const status = httpStatus(err);
  const name = e.name && e.name !== 'Error' ? e.name : (e.code ?? 'Error');
  const text = `${name}${status ? ` (HTTP ${status})` : ''}: ${e.message || 'no message'}`;
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

function isAsyncIterable(x: unknown): x is AsyncIterable<Uint8Array> {
  return typeof x === 'object' && x !== null && Symbol.asyncIterator in x;
}
