import type { z } from 'zod';
import { splitUrl } from './redact.js';

/**
 * Why a URL that a caller gives us (a run's source_url, a webhook URL, `sie run SOURCE`, `--push`) is
 * refused; undefined when it is fine. The refusal never quotes the URL, nor any one character of its
 * userinfo: it may hold a password, and even "it contains a '\"'" tells a reader of the log something
 * about it. The messages state the rule the URL broke instead.
 *
 * Refused rather than normalised: an unencoded '@', a space, a tab or a newline in the userinfo means
 * different credentials to different parsers (WHATWG's `new URL` silently drops tabs and newlines, ffmpeg
 * keeps them; a password with '/', '?' or '#' turns into a host and a path). Guessing which reading the
 * caller meant would send the camera something they never wrote, and text we could not redact reliably
 * would end up in logs. A clear 4xx lets them percent-encode it once (`p%40ss`), which every parser reads
 * the same way and which still works end to end (ffmpeg decodes the userinfo before authenticating).
 */
export function urlInputProblem(url: string): string | undefined {
  // \p{Cc}: C0/C1 controls and DEL; \p{Cf}: invisible format characters (bidi overrides, zero widths).
  if (/[\s\p{Cc}\p{Cf}]/u.test(url)) return 'no whitespace or control characters allowed (percent-encode them, e.g. a space as %20)';
  const parts = splitUrl(url);
  if (!parts) return undefined;
  if (parts.userinfo !== undefined) {
    // RFC 3986 userinfo: unreserved / pct-encoded / sub-delims / ':'. An unencoded '@' is one of these too.
    if (/[^A-Za-z0-9\-._~!$&'()*+,;=:%]/.test(parts.userinfo)) {
      return "userinfo holds a character that must be percent-encoded: only letters, digits, -._~!$&'()*+,:;= and %XX escapes may appear as they are (e.g. '@' is written %40)";
    }
    // The webhook deliverer and ffmpeg decode the userinfo before using it: a lone '%', or escapes that
    // are not UTF-8 (`%C3` alone), would be accepted here and then fail at every delivery or connect.
    if (/%(?![0-9A-Fa-f]{2})/.test(parts.userinfo) || !decodes(parts.userinfo)) {
      return "userinfo is not valid percent-encoding: each '%' must start a %XX escape and the escapes must decode as UTF-8 (a '%' itself is %25)";
    }
  }
  // `rtsp://u:12/ss@cam/x` parses as host "u", port 12: a password holding '/', '?' or '#' lands in the
  // path, where it would be shown. No camera path needs a bare '@'.
  if (parts.rest.includes('@')) {
    return "'@' after the host: percent-encode '/', '?', '#' and '@' in a password (as %2F, %3F, %23, %40)";
  }
  return undefined;
}

function decodes(userinfo: string): boolean {
  try {
    // Each half on its own, as the deliverer decodes them (an escaped ':' must not join them).
    for (const part of userinfo.split(':')) decodeURIComponent(part);
    return true;
  } catch {
    return false;
  }
}

/**
 * The one zod rule for every URL a caller gives us that may carry credentials (the API's source_url, a
 * config's webhook.url, the CLI's URL options): refused with urlInputProblem's reason, before any other
 * check can quote the value. `when` limits the check (a CLI SOURCE may also be a file name, spaces allowed).
 */
export function unambiguousUrl<T extends z.ZodType<string>>(schema: T, when: (s: string) => boolean = () => true): T {
  return schema.superRefine((s, ctx) => {
    const problem = when(s) ? urlInputProblem(s) : undefined;
    if (problem) ctx.addIssue({ code: 'custom', message: problem, abort: true });
  }) as unknown as T;
}
