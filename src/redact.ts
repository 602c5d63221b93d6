/**
 * Camera credentials must never reach logs, API responses, metrics or traces. Everything that prints a
 * URL or relays a child process's output goes through here.
 *
 * Credentials are found the way the programs that use the URL find them, not with a "no '@', no space"
 * pattern: the authority runs from `scheme://` to the first '/', '?' or '#', and the userinfo is
 * everything before the LAST '@' in it (ffmpeg's av_url_split and the WHATWG URL parser both take the
 * last '@'). So `rtsp://u:p@ss@host/x` has the password `p@ss`, and `rtsp://u:p\tss@host/x` the
 * password `p<TAB>ss`: both are hidden whole. In free text this may hide a little too much (an '@' later
 * on the same span of prose): that is the safe side.
 */
const SCHEME_CHAR = /[a-z0-9+.-]/i;

/**
 * Every `scheme://` in free text: where its scheme begins and where its authority does. Found from each
 * '://' by walking back over scheme characters, not with a word boundary before a scheme pattern:
 * `x_rtsp://u:p@h` or `1rtsp://u:p@h` is still a URL whose userinfo a reader of the line can see. A '://'
 * with no scheme letter before it counts too (the safe side). Linear in the text: a regex that may start
 * a scheme at every letter rescans long runs of them (a base64 blob on the same line) once per letter.
 */
function schemesIn(text: string): { index: number; start: number }[] {
  const out: { index: number; start: number }[] = [];
  for (let sep = text.indexOf('://'); sep >= 0; sep = text.indexOf('://', sep + 3)) {
    let index = sep;
    while (index > 0 && SCHEME_CHAR.test(text[index - 1]!)) index--;
    // A scheme begins with a letter: `1rtsp://` is `rtsp://` after a digit.
    while (index < sep && !/[a-z]/i.test(text[index]!)) index++;
    out.push({ index, start: sep + 3 });
  }
  return out;
}

interface Authority {
  /** Index just after `scheme://`. */
  start: number;
  /** Index of the '/', '?', '#' (or the limit) that ends the authority. */
  end: number;
  /** Index of the '@' that ends the userinfo, or -1 when there is none. */
  at: number;
}

function authorityAt(text: string, start: number, limit: number): Authority {
  let end = start;
  while (end < limit) {
    const c = text.charCodeAt(end);
    if (c === 0x2f /* / */ || c === 0x3f /* ? */ || c === 0x23 /* # */) break;
    end++;
  }
  const at = end > start ? text.lastIndexOf('@', end - 1) : -1;
  return { start, end, at: at >= start ? at : -1 };
}

/** The parts of one URL (the whole string): undefined when it has no `scheme://`. */
export function splitUrl(url: string): { scheme: string; userinfo: string | undefined; host: string; rest: string } | undefined {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)/i.exec(url);
  if (!m) return undefined;
  const a = authorityAt(url, m[1]!.length, url.length);
  return {
    scheme: m[1]!,
    userinfo: a.at < 0 ? undefined : url.slice(a.start, a.at),
    host: url.slice(a.at < 0 ? a.start : a.at + 1, a.end),
    rest: url.slice(a.end),
  };
}

/**
 * The URL without its userinfo at all (`rtsp://u:p@h/x` → `rtsp://h/x`), found by the same last-'@' rule:
 * for what must not show even the user name (the RTSP server's Content-Base and RTP-Info headers).
 */
export function stripUserinfo(url: string): string {
  const p = splitUrl(url);
  return p?.userinfo === undefined ? url : p.scheme + p.host + p.rest;
}

/** rtsp://user:secret@host/x → rtsp://user:***@host/x, inside any text (a user without password stays). */
export function redactText(text: string): string {
  if (!text.includes('://')) return text;
  const starts = schemesIn(text);
  let out = '';
  let pos = 0;
  for (let i = 0; i < starts.length; i++) {
    const start = starts[i]!.start;
    // The next URL's scheme ends this one's authority at the latest (it holds a '/' anyway).
    const limit = i + 1 < starts.length ? starts[i + 1]!.index : text.length;
    if (start < pos) continue;
    const a = authorityAt(text, start, limit);
    if (a.at < 0) continue;
    const userinfo = text.slice(start, a.at);
    const colon = userinfo.indexOf(':');
    out += text.slice(pos, start) + (colon >= 0 ? `${userinfo.slice(0, colon)}:***` : userinfo) + '@';
    pos = a.at + 1;
  }
  return out + text.slice(pos);
}

/** Also removes given secrets wherever they appear on their own (ffmpeg echoes parts of URLs). */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = redactText(text);
  for (const s of secrets) {
    if (s.length >= 3) out = out.split(s).join('***');
  }
  return out;
}

/**
 * The password of a URL, as written and percent-decoded, so it can be scrubbed from free text. Found by
 * the same rule as redactText (last '@'), not by `new URL`, which silently drops tabs and newlines.
 */
export function secretsOfUrl(url: string): string[] {
  const userinfo = splitUrl(url)?.userinfo;
  const colon = userinfo?.indexOf(':') ?? -1;
  if (userinfo === undefined || colon < 0) return [];
  const raw = userinfo.slice(colon + 1);
  if (!raw) return [];
  const out = [raw];
  try {
    out.push(decodeURIComponent(raw));
  } catch {
    // A stray '%': only the raw form can appear.
  }
  // Child output is read line by line: a password holding a line break (a row from before the edge
  // refused them) is echoed as pieces on separate lines, each of which must go.
  for (const s of [...out]) if (/[\r\n]/.test(s)) out.push(...s.split(/[\r\n]+/).filter(Boolean));
  return [...new Set(out)];
}

/** What redactDeep puts in place of an object nested deeper than it looks. */
export const TOO_DEEP = '[too deep]';

/**
 * Redacts every string inside a JSON-like value (objects, arrays, Errors' messages), to a bounded depth:
 * log fields nest (`{ error: { message } }`, arrays of ffmpeg lines) and a password must not hide in one.
 * An object below that depth is replaced, not passed on as it is: what was not looked at is not shown.
 */
export function redactDeep(value: unknown, depth = 6): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth <= 0) return TOO_DEEP;
  if (value instanceof Error) return { name: value.name, message: redactText(value.message) };
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth - 1));
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, depth - 1);
  return out;
}
