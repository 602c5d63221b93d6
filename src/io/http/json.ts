/**
 * A strict JSON parser for request bodies (RFC 8259), written because JSON.parse cannot say what the API
 * must refuse: a key given twice (JSON.parse keeps the last one silently, so `{"confidence":0.9,
 * "confidence":0.1}` means whatever the reader assumed), a number too large to be a double (1e400 becomes
 * Infinity), nesting deep enough to exhaust the stack later on, and prototype keys. Errors say where, as
 * line, column and character offset, because "not valid JSON" alone leaves a caller to bisect their body.
 */

/** Nesting deeper than this is refused: configs nest 5 levels, and recursion must stay far from the stack limit. */
export const MAX_JSON_DEPTH = 64;

export class JsonSyntaxError extends Error {
  constructor(
    readonly reason: string,
    /** 0-based offset in the text (UTF-16 code units). */
    readonly position: number,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason} at line ${line}, column ${column} (position ${position})`);
    this.name = 'JsonSyntaxError';
  }
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** What a character is, for messages: printable ones quoted, the rest as U+XXXX. */
function describeChar(text: string, i: number): string {
  if (i >= text.length) return 'end of input';
  const cp = text.codePointAt(i)!;
  if (cp > 0x20 && cp < 0x7f) return `"${text[i]}"`;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

function quoteKey(key: string): string {
  return JSON.stringify(key.length > 100 ? `${key.slice(0, 100)}…` : key);
}

/** " in rules.0.zone" for messages about a key, nothing at the top level. */
function where(path: readonly (string | number)[]): string {
  return path.length === 0 ? '' : ` in ${path.map((p) => (typeof p === 'number' ? String(p) : p.length > 100 ? `${p.slice(0, 100)}…` : p)).join('.')}`;
}

/** Parses `text` as one JSON value; throws JsonSyntaxError naming the place of the first problem. */
export function parseStrictJson(text: string): unknown {
  let i = 0;

  const fail = (reason: string, at = i): never => {
    let line = 1;
    let lineStart = 0;
    for (let k = 0; k < at && k < text.length; k++) {
      if (text.charCodeAt(k) === 0x0a) {
        line++;
        lineStart = k + 1;
      }
    }
    throw new JsonSyntaxError(reason, at, line, at - lineStart + 1);
  };

  const skipWs = (): void => {
    while (i < text.length && WS.has(text.charCodeAt(i))) i++;
  };

  const expectWord = (word: string, value: unknown): unknown => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return value;
    }
    return fail(`unexpected ${describeChar(text, i)}`);
  };

  const parseString = (): string => {
    const start = i;
    i++; // opening quote
    let out = '';
    let chunk = i;
    for (;;) {
      if (i >= text.length) return fail('unterminated string', start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(chunk, i);
        i++;
        return out;
      }
      if (c < 0x20) return fail(`control character ${describeChar(text, i)} in a string (escape it)`);
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(chunk, i);
      const e = text[i + 1];
      if (e === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) return fail('invalid \\u escape (expected 4 hex digits)');
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else if (e !== undefined && e in ESCAPES) {
        out += ESCAPES[e];
        i += 2;
      } else {
        return fail(`invalid escape \\${e ?? ''}`);
      }
      chunk = i;
    }
  };

  const parseNumber = (): number => {
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m || m[0] === '-' || m[0].length === 0) return fail(`unexpected ${describeChar(text, i)}`);
    const n = Number(m[0]);
    if (!Number.isFinite(n)) return fail(`number ${m[0].length > 40 ? `${m[0].slice(0, 40)}…` : m[0]} is too large`);
    i += m[0].length;
    return n;
  };

  const parseValue = (path: readonly (string | number)[]): unknown => {
    const depth = path.length;
    skipWs();
    const c = text[i];
    if (c === '{' || c === '[') {
      if (depth >= MAX_JSON_DEPTH) return fail(`nested deeper than ${MAX_JSON_DEPTH} levels`);
      return c === '{' ? parseObject(path) : parseArray(path);
    }
    if (c === '"') return parseString();
    if (c === 't') return expectWord('true', true);
    if (c === 'f') return expectWord('false', false);
    if (c === 'n') return expectWord('null', null);
    if (c === '-' && text.startsWith('-Infinity', i)) return fail('-Infinity is not a JSON value');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return parseNumber();
    if (c === 'N' && text.startsWith('NaN', i)) return fail('NaN is not a JSON value');
    if (c === 'I' && text.startsWith('Infinity', i)) return fail('Infinity is not a JSON value');
    return fail(`unexpected ${describeChar(text, i)}`);
  };

  const parseArray = (path: readonly (string | number)[]): unknown[] => {
    i++;
    const out: unknown[] = [];
    skipWs();
    if (text[i] === ']') {
      i++;
      return out;
    }
    for (;;) {
      out.push(parseValue([...path, out.length]));
      skipWs();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return out;
      }
      return fail(`unexpected ${describeChar(text, i)} (expected "," or "]")`);
    }
  };

  const parseObject = (path: readonly (string | number)[]): Record<string, unknown> => {
    i++;
    const out: Record<string, unknown> = {};
    skipWs();
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      skipWs();
      const keyAt = i;
      if (text[i] !== '"') return fail(`unexpected ${describeChar(text, i)} (expected a key in double quotes)`);
      const key = parseString();
      // A prototype key would change the object's prototype when zod copies a record: refused, as Fastify does.
      if (key === '__proto__') return fail(`key "__proto__" is not allowed${where(path)}`, keyAt);
      if (Object.hasOwn(out, key)) return fail(`duplicate key ${quoteKey(key)}${where(path)}`, keyAt);
      skipWs();
      if (text[i] !== ':') return fail(`unexpected ${describeChar(text, i)} (expected ":")`);
      i++;
      const value = parseValue([...path, key]);
      if (key === 'constructor' && value !== null && typeof value === 'object' && Object.hasOwn(value, 'prototype')) {
        return fail(`key "constructor.prototype" is not allowed${where(path)}`, keyAt);
      }
      out[key] = value;
      skipWs();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return out;
      }
      return fail(`unexpected ${describeChar(text, i)} (expected "," or "}")`);
    }
  };

  const value = parseValue([]);
  skipWs();
  if (i < text.length) fail(`unexpected ${describeChar(text, i)} after the JSON value`);
  return value;
}
