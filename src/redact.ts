/**
 * Camera credentials must never reach logs, API responses, metrics or traces. Everything that prints a
 * URL or relays a child process's output goes through here.
 */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*)(:[^\s/@]*)?@/gi;

/** rtsp://user:secret@host/x → rtsp://user:***@host/x, inside any text (a user without password stays). */
export function redactText(text: string): string {
  return text.replace(URL_USERINFO, (_m, scheme: string, user: string, password: string | undefined) =>
    password ? `${scheme}${user}:***@` : `${scheme}${user}@`,
  );
}

/** Also removes given secrets wherever they appear on their own (ffmpeg echoes parts of URLs). */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = redactText(text);
  for (const s of secrets) {
    if (s.length >= 3) out = out.split(s).join('***');
  }
  return out;
}

/** The password (and user) of a URL, decoded, so they can be scrubbed from free text. */
export function secretsOfUrl(url: string): string[] {
  try {
    const u = new URL(url);
    const out: string[] = [];
    if (u.password) {
      out.push(u.password, decodeURIComponent(u.password));
    }
    return [...new Set(out)];
  } catch {
    return [];
  }
}

/**
 * Redacts every string inside a JSON-like value (objects, arrays, Errors' messages), to a bounded depth:
 * log fields nest (`{ error: { message } }`, arrays of ffmpeg lines) and a password must not hide in one.
 */
export function redactDeep(value: unknown, depth = 6): unknown {
  if (typeof value === 'string') return redactText(value);
  if (depth <= 0 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: redactText(value.message) };
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth - 1));
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, depth - 1);
  return out;
}
