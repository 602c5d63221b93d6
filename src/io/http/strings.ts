/**
 * Strings no field of the API may hold, checked once for every request (body, query string, path
 * parameters, multipart fields) instead of per field: PostgreSQL refuses NUL in text and `\u0000` in
 * jsonb, and a lone UTF-16 surrogate (only possible through a `\ud800` escape) is refused by jsonb or
 * silently turned into U+FFFD in text. Either way the caller got a 500 after part of the work was done.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What is wrong with one string, or undefined when it can be stored. */
export function badStringReason(s: string): string | undefined {
  if (s.includes('\u0000')) return 'contains a NUL character (U+0000)';
  const m = LONE_SURROGATE.exec(s);
  if (m) return `contains a lone UTF-16 surrogate (U+${m[0].charCodeAt(0).toString(16).toUpperCase()}) at character ${m.index}`;
  return undefined;
}

export interface BadString {
  /** Dotted path of the value (or of the key's object when the key itself is bad); "" for the root. */
  readonly path: string;
  readonly reason: string;
}

/**
 * The first string in `value` (object keys included) that cannot be stored. Iterative, so hostile nesting
 * cannot overflow the stack (JSON bodies are capped at 64 levels, but query parsers and callers vary).
 */
export function findBadString(value: unknown): BadString | undefined {
  const stack: { v: unknown; path: readonly (string | number)[] }[] = [{ v: value, path: [] }];
  const name = (path: readonly (string | number)[]): string => path.map(String).join('.');
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { v, path } = item;
    if (typeof v === 'string') {
      const reason = badStringReason(v);
      if (reason) return { path: name(path), reason };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: [...path, i] });
    } else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        const reason = badStringReason(key);
        if (reason) return { path: name(path), reason: `has a key that ${reason}` };
        stack.push({ v: (v as Record<string, unknown>)[key], path: [...path, key] });
      }
    }
  }
  return undefined;
}

/**
 * Offset of the first byte that does not start or continue a well-formed UTF-8 sequence (overlong forms,
 * surrogates and code points past U+10FFFF included), or -1 when the whole buffer is valid.
 */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0; // overlong
      if (c === 0xed) hi = 0x9f; // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90; // overlong
      if (c === 0xf4) hi = 0x8f; // past U+10FFFF
    } else return i;
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      if (x === undefined || x < (k === 1 ? lo : 0x80) || x > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return -1;
}
