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
