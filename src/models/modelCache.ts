import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, stat, unlink, utimes } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ModelError, ModelFetchError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { hashingTap } from './hashingTap.js';

/** 4 GiB: a few dozen detection models of the usual sizes, well below a node's disk. */
export const DEFAULT_MODEL_CACHE_MAX_BYTES = 4 * 1024 ** 3;

export interface ModelCacheOptions {
  /** Where the files go: `<dir>/<sha256>.onnx`, temp files in `<dir>/.tmp/`. */
  readonly dir: string;
  /** Past this total, unused models are removed, least recently used first. */
  readonly maxBytes: number;
  readonly logger?: Logger;
  /** Tries of a fetch that breaks off (a database restart, a dropped connection): default 3. */
  readonly fetchAttempts?: number;
  /** The wait before the second try, doubled before each later one: default 500 ms. */
  readonly retryDelayMs?: number;
}

/** A model file in the cache, kept there until release(). */
export interface CachedModel {
  readonly path: string;
  readonly sha256: string;
  /** The run is done with it: it may be evicted again. Idempotent. */
  release(): void;
}

export interface AcquireOptions {
  /** Its size in bytes as the database records it; a download of another size is refused. */
  readonly size?: number;
  /** The weights, read in chunks: called only when the file is not in the cache or fails its check. */
  fetch(): AsyncIterable<Uint8Array>;
}

const SHA256 = /^[0-9a-f]{64}$/;
/** A temp file this old was left by a process that died while writing it. */
const STALE_TEMP_MS = 60 * 60 * 1000;

/**
 * One engine's copies of the models it runs, by sha256, on its own disk. A file is written to a temp name,
 * hashed on the way and renamed into place only when the hash is right, so a partial or corrupt download is
 * never used; a file already there is hashed again whenever it goes from unused to used (bit rot, a copy
 * edited by hand), and fetched again if it fails. Concurrent acquires of one model share one fetch. The
 * order of use is the files' mtime (touched at every acquire), so it survives restarts and is shared by
 * engines on one cache directory. Eviction removes only models no run of this process holds; a session
 * already loaded does not need its file any more (ORT has read it), and one loaded later for the same path
 * finds the same bytes again, fetched anew.
 */
export class ModelCache {
  readonly dir: string;
  readonly maxBytes: number;
  private readonly tmpDir: string;
  private readonly log: Logger;
  /** Runs holding each model. */
  private readonly pins = new Map<string, number>();
  /** Checks and downloads in flight, by sha256: later acquires wait on the same one. */
  private readonly preparing = new Map<string, Promise<void>>();
  /** Hashed right since it was last unused: acquires while another run holds it skip the hash. */
  private readonly verified = new Set<string>();
  private swept = false;
  private readonly fetchAttempts: number;
  private readonly retryDelayMs: number;
  /** Downloads done since start (for tests and logs). */
  fetches = 0;

  constructor(o: ModelCacheOptions) {
    if (!Number.isSafeInteger(o.maxBytes) || o.maxBytes < 1) throw new RangeError(`model cache: maxBytes must be a whole number ≥ 1, got ${o.maxBytes}`);
    this.dir = resolve(o.dir);
    this.maxBytes = o.maxBytes;
    this.tmpDir = join(this.dir, '.tmp');
    this.log = o.logger ?? silentLogger;
    this.fetchAttempts = o.fetchAttempts ?? 3;
    this.retryDelayMs = o.retryDelayMs ?? 500;
  }

  pathOf(sha256: string): string {
    return join(this.dir, `${sha256}.onnx`);
  }

  /** True while a run of this process holds the model. */
  isPinned(sha256: string): boolean {
    return (this.pins.get(sha256) ?? 0) > 0;
  }

  async acquire(sha256: string, o: AcquireOptions): Promise<CachedModel> {
    // The name becomes a path: only a sha256 may.
    if (!SHA256.test(sha256)) throw new ModelError(`model cache: "${sha256}" is not a sha256`);
    this.pins.set(sha256, (this.pins.get(sha256) ?? 0) + 1);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      const n = (this.pins.get(sha256) ?? 1) - 1;
      if (n > 0) this.pins.set(sha256, n);
      else {
        this.pins.delete(sha256);
        this.verified.delete(sha256);
      }
    };
    try {
      await this.prepared(sha256, o);
      const now = new Date();
      await utimes(this.pathOf(sha256), now, now).catch(() => undefined);
    } catch (err) {
      release();
      throw err;
    }
    await this.evict().catch((err: unknown) => this.log.warn({ err: (err as Error).message, dir: this.dir }, 'model cache: eviction failed'));
    return { path: this.pathOf(sha256), sha256, release };
  }

  private prepared(sha256: string, o: AcquireOptions): Promise<void> {
    if (this.verified.has(sha256)) return Promise.resolve();
    const inFlight = this.preparing.get(sha256);
    if (inFlight) return inFlight;
    const p = (async () => {
      await this.sweepOnce();
      const path = this.pathOf(sha256);
      const found = await hashFile(path);
      if (found && found.sha256 === sha256 && (o.size === undefined || found.size === o.size)) {
        this.verified.add(sha256);
        return;
      }
      if (found) {
        this.log.warn({ model: sha256, path, got: found.sha256, size: found.size }, 'model cache: file does not match its sha256; fetching it again');
        await unlink(path).catch(() => undefined);
      }
      // A run that fails here fails for good (a model error): a fetch cut by a passing database outage is
      // tried again; bytes that hash wrong are not (fetching them again gives the same bytes).
      for (let attempt = 1; ; attempt++) {
        try {
          await this.download(sha256, o);
          break;
        } catch (err) {
          if (!(err instanceof FetchFailed) || attempt >= this.fetchAttempts) throw err;
          const waitMs = this.retryDelayMs * 2 ** (attempt - 1);
          this.log.warn({ model: sha256, attempt, err: err.message, waitMs }, 'model cache: fetch failed; trying again');
          await new Promise((r) => setTimeout(r, waitMs));
        }
      }
      this.verified.add(sha256);
    })().finally(() => this.preparing.delete(sha256));
    this.preparing.set(sha256, p);
    return p;
  }

  private async download(sha256: string, o: AcquireOptions): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
    const tmp = join(this.tmpDir, `${sha256}.${randomUUID()}.part`);
    const hashed = hashingTap();
    const started = performance.now();
    try {
      await pipeline(Readable.from(o.fetch(), { objectMode: false }), hashed.tap, createWriteStream(tmp, { flags: 'wx' }));
      const got = hashed.sha256();
      const size = hashed.bytes();
      if (got !== sha256 || (o.size !== undefined && size !== o.size)) {
        throw new ModelError(`model ${sha256}: the stored weights hash to ${got} (${size} bytes${o.size === undefined ? '' : `, expected ${o.size}`}); not used`);
      }
      await rename(tmp, this.pathOf(sha256));
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      if (err instanceof ModelError) throw err;
      throw new FetchFailed(`model ${sha256}: could not fetch its weights: ${(err as Error).message}`, { cause: err });
    }
    this.fetches++;
    this.log.info({ model: sha256, bytes: hashed.bytes(), ms: Math.round(performance.now() - started), dir: this.dir }, 'model cache: fetched');
  }

  /** Removes unused models, least recently used first, until the total is within maxBytes. */
  async evict(): Promise<void> {
    const files = await this.list();
    let total = files.reduce((s, f) => s + f.size, 0);
    if (total <= this.maxBytes) return;
    const candidates = files.filter((f) => !this.isPinned(f.sha256) && !this.preparing.has(f.sha256)).sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const f of candidates) {
      if (total <= this.maxBytes) break;
      await unlink(this.pathOf(f.sha256)).catch(() => undefined);
      total -= f.size;
      this.log.info({ model: f.sha256, bytes: f.size, dir: this.dir }, 'model cache: evicted (least recently used)');
    }
    if (total > this.maxBytes) {
      this.log.warn({ bytes: total, maxBytes: this.maxBytes, dir: this.dir }, 'model cache: over its cap with models in use; nothing more to evict');
    }
  }

  /** The models in the cache directory: sha256, size, last use. */
  async list(): Promise<{ sha256: string; size: number; mtimeMs: number }[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const out: { sha256: string; size: number; mtimeMs: number }[] = [];
    for (const name of names) {
      const m = /^([0-9a-f]{64})\.onnx$/.exec(name);
      if (!m) continue;
      const s = await stat(join(this.dir, name)).catch(() => undefined);
      if (s?.isFile()) out.push({ sha256: m[1]!, size: s.size, mtimeMs: s.mtimeMs });
    }
    return out;
  }

  /** Temp files of a process that died mid-download; a young one may be another engine's, still writing. */
  private async sweepOnce(): Promise<void> {
    if (this.swept) return;
    this.swept = true;
    const names = await readdir(this.tmpDir).catch(() => [] as string[]);
    for (const name of names) {
      const path = join(this.tmpDir, name);
      const s = await stat(path).catch(() => undefined);
      if (s && Date.now() - s.mtimeMs > STALE_TEMP_MS) await unlink(path).catch(() => undefined);
    }
  }
}

/** The fetch itself broke (not the bytes): worth another try here, and for the run after its backoff when it is the last. */
class FetchFailed extends ModelFetchError {}

/** The sha256 and size of a file, or undefined when there is none. */
async function hashFile(path: string): Promise<{ sha256: string; size: number } | undefined> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return { sha256: hash.digest('hex'), size };
}
