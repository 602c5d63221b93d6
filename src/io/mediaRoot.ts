import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * File sources of the API and the engine (`file:///…` in a run's source_url) may only be read below one
 * directory, the media root (`--media-root` / SIE_MEDIA_ROOT): without it a caller of the API could make
 * the engine read /etc/passwd, /dev/zero or a FIFO. No root (the default) = no file sources at all.
 * `sie run FILE` and `sie replay FILE` are the local user's own and do not come through here.
 */

/** A media root as an option gave it, resolved to its real path; throws when it is not a directory. */
export function openMediaRoot(dir: string): string {
  let real: string;
  try {
    real = realpathSync(resolve(dir));
  } catch {
    throw new Error(`media root ${dir} does not exist`);
  }
  if (!statSync(real).isDirectory()) throw new Error(`media root ${dir} is not a directory`);
  return real;
}

/** The media root from an option, else SIE_MEDIA_ROOT; undefined when neither is set (file sources off). */
export function mediaRootFrom(option: string | undefined, env = process.env): string | undefined {
  const dir = option ?? (env.SIE_MEDIA_ROOT || undefined);
  return dir === undefined ? undefined : openMediaRoot(dir);
}

const within = (root: string, p: string): boolean => {
  const rel = relative(root, p);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
};

export const NO_MEDIA_ROOT =
  'file sources are disabled here: start the server with --media-root DIR (or SIE_MEDIA_ROOT=DIR) to allow files under DIR';

/**
 * The real path of a file source (a `file:///…` URL or an absolute path) if it is a regular file below
 * the root, after `..` and every symbolic link are resolved; otherwise throws an Error saying why (the
 * same words for a missing file outside the root as for an existing one). `root` is what openMediaRoot
 * returned, or undefined.
 */
export function resolveMediaFile(root: string | undefined, source: string): string {
  if (root === undefined) throw new Error(NO_MEDIA_ROOT);
  let path: string;
  try {
    path = source.startsWith('file:') ? fileURLToPath(source) : source;
  } catch (err) {
    throw new Error(`not a usable file URL (${(err as Error).message})`, { cause: err });
  }
  if (!isAbsolute(path)) throw new Error('expected an absolute path');
  const lexical = resolve(path);
  const outside = `${lexical} is outside the media root`;
  let real: string;
  try {
    real = realpathSync(lexical);
  } catch {
    throw new Error(within(root, lexical) ? `no such file under the media root: ${lexical}` : outside);
  }
  // Judged on the real path: `..`, and links anywhere on the way (the root's own spelling included).
  if (!within(root, real)) throw new Error(within(root, lexical) ? `${outside} (through a symbolic link)` : outside);
  if (!statSync(real).isFile()) throw new Error(`${lexical} is not a regular file`);
  return real;
}
