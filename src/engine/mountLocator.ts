import type { MountLocator } from '../io/rtsp/index.js';

export interface BoundedLocatorOptions {
  /** How long an answer (a URL or "nowhere") is reused for the same mount; default 1000 ms. */
  readonly ttlMs?: number;
  /** Lookups in flight at most; past that a DESCRIBE of a mount we do not have is a plain 404. Default 4. */
  readonly maxInFlight?: number;
  /** Mounts remembered at most (the oldest answers are forgotten first); default 1024. */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

/**
 * Puts a bound on the database lookups behind the RTSP redirect: every DESCRIBE of a mount this engine
 * does not serve asks PostgreSQL where it is, so a player retrying a dead URL every 100 ms, or a scanner
 * trying paths, would turn into as many queries on the database every engine shares. Concurrent lookups of
 * one mount share one query, an answer is reused for `ttlMs` (a consumer of a run that just moved is
 * redirected, or told 404, at most that much later than the database knew), and past `maxInFlight`
 * lookups at once the answer is 404 without asking: a consumer tries again, as it does after any 404.
 */
export function boundedLocator(locate: MountLocator, o: BoundedLocatorOptions = {}): MountLocator {
  const ttlMs = o.ttlMs ?? 1000;
  const maxInFlight = o.maxInFlight ?? 4;
  const maxEntries = o.maxEntries ?? 1024;
  const now = o.now ?? (() => performance.now());
  const answers = new Map<string, { at: number; url: string | undefined }>();
  const inFlight = new Map<string, Promise<string | undefined>>();
  return async (path) => {
    const known = answers.get(path);
    if (known && now() - known.at < ttlMs) return known.url;
    const pending = inFlight.get(path);
    if (pending) return pending;
    if (inFlight.size >= maxInFlight) return undefined;
    const p = locate(path)
      .then((url) => {
        answers.delete(path);
        answers.set(path, { at: now(), url });
        // A Map iterates in insertion order: the first key is the oldest answer.
        if (answers.size > maxEntries) answers.delete(answers.keys().next().value!);
        return url;
      })
      .finally(() => inFlight.delete(path));
    inFlight.set(path, p);
    return p;
  };
}
