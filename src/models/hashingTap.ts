import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

/** A pass-through stream that hashes (sha256) and counts what goes through it. */
export interface HashingTap {
  readonly tap: Transform;
  /** The hex sha256 of everything that went through; call once, after the stream ended. */
  sha256(): string;
  /** Bytes that went through so far. */
  bytes(): number;
}

/**
 * Weights are hashed on their way everywhere they move (an upload to disk, a fetch into an engine's cache,
 * a copy to the S3 store), never read twice. Past `maxBytes`, the stream fails with `tooLarge()`.
 */
export function hashingTap(limit?: { maxBytes: number; tooLarge: () => Error }): HashingTap {
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (limit && size > limit.maxBytes) return cb(limit.tooLarge());
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  return { tap, sha256: () => hash.digest('hex'), bytes: () => size };
}
