import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, MAX_JSON_DEPTH, parseStrictJson } from '../../../src/io/http/json.js';
import { findBadString, firstInvalidUtf8 } from '../../../src/io/http/strings.js';

const SEED = 4242;

function syntaxError(text: string): JsonSyntaxError {
  try {
    parseStrictJson(text);
  } catch (err) {
    if (err instanceof JsonSyntaxError) return err;
    throw err;
  }
  throw new Error(`parsed: ${text}`);
}

/** Would our parser refuse this (valid) JSON on purpose? Duplicate keys, prototype keys, numbers past a double, depth. */
function refusedOnPurpose(text: string): boolean {
  let dup = false;
  let depth = 0;
  let deepest = 0;
  JSON.parse(text, function (this: unknown, key, value: unknown) {
    if (key === '__proto__' || key === 'constructor') dup = true;
    if (typeof value === 'number' && !Number.isFinite(value)) dup = true;
    return value;
  });
  // Duplicates: re-serialising the parsed value loses keys when the text had some twice.
  const countKeys = (t: string): number => (t.match(/"(?:[^"\\]|\\.)*"\s*:/g) ?? []).length;
  if (countKeys(JSON.stringify(JSON.parse(text))) !== countKeys(text)) dup = true;
  for (const c of text) {
    if (c === '[' || c === '{') deepest = Math.max(deepest, ++depth);
    if (c === ']' || c === '}') depth--;
  }
  return dup || deepest > MAX_JSON_DEPTH;
}

describe('parseStrictJson', () => {
  it('property: parses what JSON.stringify writes exactly as JSON.parse does', () => {
    const value = fc.jsonValue({ maxDepth: 6 }).filter((v) => !JSON.stringify(v).includes('"__proto__"'));
    fc.assert(
      fc.property(value, fc.constantFrom(0, 2), (v, indent) => {
        const text = JSON.stringify(v, null, indent);
        expect(parseStrictJson(text)).toEqual(JSON.parse(text));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('property: on JSON-like noise, refuses exactly what JSON.parse refuses (plus duplicates, prototype keys, depth)', () => {
    const token = fc.constantFrom('{', '}', '[', ']', ',', ':', '"a"', '"b"', '"\\u00e9"', '1', '-0.5e3', '01', 'true', 'nul', 'null', ' ', '\n', 'NaN', '"x', '\\');
    fc.assert(
      fc.property(fc.array(token, { maxLength: 14 }).map((t) => t.join('')), (text) => {
        let expected: unknown;
        let valid = true;
        try {
          expected = JSON.parse(text);
        } catch {
          valid = false;
        }
        if (!valid || refusedOnPurpose(text)) {
          expect(() => parseStrictJson(text)).toThrow(JsonSyntaxError);
        } else {
          expect(parseStrictJson(text)).toEqual(expected);
        }
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it.each([
    ['{"a": 1, "a": 2}', /^duplicate key "a" at line 1, column 10/],
    ['{"inference": {"confidence": 0.5,\n  "confidence": 0.9}}', /^duplicate key "confidence" in inference at line 2, column 3/],
    ['{"rules": [{"id": "x", "id": "y"}]}', /^duplicate key "id" in rules\.0 at line 1/],
    ['{"a": NaN}', /^NaN is not a JSON value at line 1, column 7 \(position 6\)/],
    ['{\n  "a": Infinity}', /^Infinity is not a JSON value at line 2, column 8/],
    ['{"a": -Infinity}', /^-Infinity is not a JSON value at line 1, column 7/],
    ['[1e400]', /^number 1e400 is too large at line 1, column 2/],
    ['{"__proto__": {"x": 1}}', /^key "__proto__" is not allowed/],
    ['{"constructor": {"prototype": {}}}', /^key "constructor.prototype" is not allowed/],
    ['{"a": 1,}', /^unexpected "}" \(expected a key in double quotes\)/],
    ['"tab\there"', /^control character U\+0009 in a string/],
    ['"\\x"', /^invalid escape \\x/],
    ['[1] [2]', /after the JSON value at line 1, column 5/],
    ['"open', /^unterminated string at line 1, column 1/],
  ])('%j is refused: %s', (text, message) => {
    expect(syntaxError(text).message).toMatch(message);
  });

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} without exhausting the stack`, () => {
    expect(parseStrictJson('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH))).toBeDefined();
    const e = syntaxError('['.repeat(1_000_000));
    expect(e.message).toMatch(/nested deeper than 64 levels/);
    expect(e.position).toBe(MAX_JSON_DEPTH);
  });

  it('keeps a constructor key that is not a prototype carrier and escaped lone surrogates (the edge check refuses those)', () => {
    expect(parseStrictJson('{"constructor": 1, "s": "\\ud800"}')).toEqual({ constructor: 1, s: '\ud800' });
  });
});

describe('firstInvalidUtf8', () => {
  it('property: agrees with a fatal TextDecoder on random bytes', () => {
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (b) => {
        let valid = true;
        try {
          decoder.decode(b);
        } catch {
          valid = false;
        }
        expect(firstInvalidUtf8(b) === -1).toBe(valid);
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it.each([
    [[0x61, 0xff], 1],
    [[0xc0, 0x80], 0], // overlong NUL
    [[0xed, 0xa0, 0x80], 0], // an encoded surrogate
    [[0xf4, 0x90, 0x80, 0x80], 0], // past U+10FFFF
    [[0x61, 0xe2, 0x82], 1], // cut short
    [[0xe2, 0x82, 0xac], -1], // €
  ])('%j → %i', (bytes, at) => {
    expect(firstInvalidUtf8(Uint8Array.from(bytes))).toBe(at);
  });
});

describe('findBadString', () => {
  it('names the path of a NUL or a lone surrogate anywhere, keys included', () => {
    expect(findBadString({ a: [{ b: 'ok' }, { c: 'x\u0000y' }] })).toEqual({ path: 'a.1.c', reason: 'contains a NUL character (U+0000)' });
    expect(findBadString({ rules: [{ name: 'a\ud800' }] })?.path).toBe('rules.0.name');
    expect(findBadString({ colors: { 'per\udc00son': '#fff' } })).toMatchObject({ path: 'colors', reason: expect.stringMatching(/^has a key that contains a lone/) });
    expect(findBadString({ ok: 'a \ud83d\ude00 pair', n: 1, z: null })).toBeUndefined();
  });
});
