import { splitUrl } from './redact.js';

/**
 * Why a URL that a caller gives us (a run's source_url, a webhook URL, `sie run SOURCE`, `--push`) is
 * refused; undefined when it is fine. The refusal never quotes the URL: it may hold a password.
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
    if (parts.userinfo.includes('@')) return "userinfo must percent-encode '@' (as %40)";
    // RFC 3986 userinfo: unreserved / pct-encoded / sub-delims / ':'.
    const bad = /[^A-Za-z0-9\-._~!$&'()*+,;=:%]/.exec(parts.userinfo);
    if (bad) return `userinfo must percent-encode '${bad[0]}'`;
    if (/%(?![0-9A-Fa-f]{2})/.test(parts.userinfo)) return "userinfo: '%' must start a %XX escape";
  }
  // `rtsp://u:12/ss@cam/x` parses as host "u", port 12: a password holding '/', '?' or '#' lands in the
  // path, where it would be shown. No camera path needs a bare '@'.
  if (parts.rest.includes('@')) {
    return "'@' after the host: percent-encode '/', '?', '#' and '@' in a password (as %2F, %3F, %23, %40)";
  }
  return undefined;
}
