import { request as httpRequest } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COCO_LIKE, insertModelRow, startApi, type Harness } from './harness.js';

/**
 * The API driven from its own OpenAPI document (issue 12): for every operation, a fixed-seed stream of
 * requests, valid-looking and hostile (NUL, lone surrogates, huge numbers, NaN, deep nesting, wrong types,
 * long strings, odd Unicode, broken encodings and content types), sent over a real socket to the real app on
 * a real database, then a few plausible ones (so every mutating operation that can succeed does, at least
 * once). No answer may be a 5xx, and every 4xx must be our `{error, detail}`. SIE_FUZZ_SEED and
 * SIE_FUZZ_RUNS explore further; a failure prints the seed and the request.
 */
const SEED = Number(process.env.SIE_FUZZ_SEED ?? 12_012);
const RUNS = Number(process.env.SIE_FUZZ_RUNS ?? 40);
/** Plausible requests per operation besides (see plausibleRequestArb): what a careful caller sends. */
const PLAUSIBLE_RUNS = 15;
const REQUEST_TIMEOUT_MS = 20_000;

// ---------------------------------------------------------------- the document (read before the tests exist)

type Schema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean | number;
  minItems?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  nullable?: boolean;
  $ref?: string;
};
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}
interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  json?: Schema;
  multipart?: Schema;
}

let h: Harness;
let base = '';
const fixtures = { modelIds: [] as string[], configIds: [] as string[], runIds: [] as string[] };
let operations: Operation[] = [];
let components: Record<string, Schema> = {};

async function readOperations(app: Harness['app']): Promise<Operation[]> {
  const doc = (await app.inject('/openapi.json')).json() as {
    paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: Schema }> } }>>;
    components?: { schemas?: Record<string, Schema> };
  };
  components = doc.components?.schemas ?? {};
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      parameters: op.parameters ?? [],
      json: op.requestBody?.content['application/json']?.schema,
      multipart: op.requestBody?.content['multipart/form-data']?.schema,
    })),
  );
}

// ---------------------------------------------------------------- values

const HOSTILE_STRINGS = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\ud83d',
  '\ufeffbom',
  '\u202eevil',
  'zero\u200bwidth',
  '👩‍👩‍👧‍👦',
  'e\u0301',
  '\r\n\t',
  '../../etc/passwd',
  "'; DROP TABLE runs; --",
  '%00',
  '%ff',
  '__proto__',
  'constructor',
];

/** Values that fit no schema: the kinds a careless or hostile caller sends. */
function hostileValue(): fc.Arbitrary<unknown> {
  const nested = fc.integer({ min: 30, max: 120 }).map((d) => {
    let v: unknown = 'deep';
    for (let i = 0; i < d; i++) v = i % 2 ? [v] : { a: v };
    return v;
  });
  return fc.oneof(
    fc.constantFrom(...HOSTILE_STRINGS),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.integer({ min: 201, max: 20_000 }).map((n) => 'x'.repeat(n)),
    fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, -0, 5e-324, 1e21, -1, 0, 2 ** 31),
    fc.constantFrom(null, true, false, [], {}, [[[]]], { '': '' }, { __proto__: null }),
    fc.double(),
    nested,
  );
}

/** Hints for fields whose valid values no schema describes (so some requests get past validation). */
function hinted(name: string | undefined): fc.Arbitrary<unknown> | undefined {
  if (name === 'source_url') return fc.constantFrom('rtsp://cam.local/1', 'rtsp://u:p@10.0.0.1:554/s', 'rtsps://cam/x', 'file:///media/a.mp4');
  if (name === 'url') return fc.constantFrom('https://example.test/hook', 'http://127.0.0.1:9/x');
  if (name === 'client_id') return fc.constantFrom('acme', 'globex');
  if (name === 'model_id') return fc.constantFrom(...fixtures.modelIds);
  if (name === 'config_id') return fc.constantFrom(...fixtures.configIds);
  return undefined;
}

const resolveRef = (s: Schema): Schema => (s.$ref ? resolveRef(components[s.$ref.split('/').pop()!] ?? {}) : s);

/** Values following the schema; at each node, with weight `hostility` (0..1000), something else instead. */
function fromSchema(raw: Schema, hostility: number, depth = 0, name?: string): fc.Arbitrary<unknown> {
  const valid = validFromSchema(resolveRef(raw), hostility, depth, name);
  if (hostility === 0) return valid;
  return fc.oneof({ weight: 1000 - hostility, arbitrary: valid }, { weight: hostility, arbitrary: hostileValue() });
}

function validFromSchema(s: Schema, hostility: number, depth: number, name?: string): fc.Arbitrary<unknown> {
  if (depth > 8) return fc.constant(null);
  const hint = hinted(name);
  if (hint) return fc.oneof({ weight: 3, arbitrary: hint }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) });
  if (s.enum) return fc.constantFrom(...s.enum);
  if (s.const !== undefined) return fc.constant(s.const);
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return fc.oneof(...alts.map((a) => fromSchema(a, hostility, depth + 1, name)));
  if (s.allOf?.[0]) return fromSchema(s.allOf[0], hostility, depth + 1, name);
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (s.nullable) types.push('null');
  if (types.length > 1) return fc.oneof(...types.map((t) => validFromSchema({ ...s, type: t, nullable: false }, hostility, depth, name)));
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: Math.max(s.minimum ?? -1000, -1e6), max: Math.min(s.maximum ?? 1000, 1e6) });
    case 'number': {
      const min = Math.max(s.minimum ?? -1000, -1e6);
      return fc.double({ min: s.exclusiveMinimum === true ? min + 1e-6 : min, max: Math.min(s.maximum ?? 1000, 1e6), noNaN: true });
    }
    case 'string':
      return stringFromSchema(s, name);
    case 'array':
      return fc.array(fromSchema(s.items ?? {}, hostility, depth + 1, name), {
        minLength: s.minItems ?? 0,
        maxLength: Math.max(s.minItems ?? 0, Math.min(s.maxItems ?? 4, 5)),
      });
    case 'object':
      return objectFromSchema(s, hostility, depth);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function stringFromSchema(s: Schema, name?: string): fc.Arbitrary<string> {
  if (s.format === 'uuid') {
    const known = name === 'model_id' ? fixtures.modelIds : name === 'config_id' ? fixtures.configIds : [...fixtures.runIds, ...fixtures.configIds];
    return fc.oneof(fc.constantFrom(...known), fc.uuid());
  }
  if (s.pattern) {
    const max = s.maxLength ?? 64;
    return fc.stringMatching(new RegExp(s.pattern)).filter((x) => x.length <= max && x.length >= (s.minLength ?? 0));
  }
  const maxLength = Math.min(s.maxLength ?? 40, 40);
  const minLength = Math.min(s.minLength ?? 0, maxLength);
  if (name === 'classes' || name === 'blur_classes') return fc.constantFrom(...COCO_LIKE);
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ minLength, maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength, maxLength }) },
  );
}

/** requiredOnly: the required keys alone (a minimal request, the defaults doing the rest). */
function objectFromSchema(s: Schema, hostility: number, depth: number, requiredOnly = false): fc.Arbitrary<unknown> {
  const props = s.properties ?? {};
  const required = new Set(s.required ?? []);
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, sub] of Object.entries(props)) {
    if (requiredOnly && !required.has(key)) continue;
    const v = fromSchema(sub, hostility, depth + 1, key);
    // Required keys are sometimes missing too, when the request is meant to be hostile.
    shape[key] = required.has(key) && hostility === 0 ? v : fc.option(v, { nil: undefined, freq: required.has(key) ? 20 : 2 });
  }
  const known = fc.record(shape).map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)));
  const extra = requiredOnly
    ? fc.constant({})
    : typeof s.additionalProperties === 'object'
      ? fc.dictionary(fc.string({ maxLength: 10 }), fromSchema(s.additionalProperties, hostility, depth + 1), { maxKeys: 3 })
      : hostility > 0
        ? fc.option(fc.dictionary(fc.constantFrom('colour', 'x', '\u0000', '__proto__', 'constructor'), hostileValue(), { maxKeys: 1 }), { nil: {}, freq: 10 })
        : fc.constant({});
  return fc.tuple(known, extra).map(([k, e]) => {
    const out: Record<string, unknown> = {};
    for (const [key, v] of [...Object.entries(e), ...Object.entries(k)]) Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    return out;
  });
}

// ---------------------------------------------------------------- requests

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** A string as percent-encoded UTF-8 (a lone surrogate becomes U+FFFD's bytes, as any client would send). */
const pct = (s: string): string => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');
const RAW_SEGMENTS = ['%00', '%ff', '%ED%A0%80', '%E2%82', '%2F', '..', '%20', 'a'.repeat(101), 'a'.repeat(3000), '%C0%80', '-1', '0'];

/** Ids of the resource the path names. */
const ownIds = (op: Operation): string[] =>
  op.path.startsWith('/v1/models') ? fixtures.modelIds : op.path.startsWith('/v1/configs') ? fixtures.configIds : fixtures.runIds;

/** The path with its parameters filled from `segment`. */
function fillPath(op: Operation, segment: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const names = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  return fc.array(segment, { minLength: names.length, maxLength: names.length }).map((values) => {
    let p = op.path;
    names.forEach((n, i) => (p = p.replace(`{${n}}`, values[i]!)));
    return p;
  });
}

function pathArb(op: Operation): fc.Arbitrary<string> {
  // Mostly ids of the resource the path names, so requests reach the handlers and the database.
  const own = ownIds(op);
  const segment = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...own) },
    { weight: 1, arbitrary: fc.constantFrom(...fixtures.modelIds, ...fixtures.configIds, ...fixtures.runIds) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).map(pct) },
  );
  return fillPath(op, segment);
}

function queryArb(op: Operation): fc.Arbitrary<string> {
  const params = op.parameters.filter((p) => p.in === 'query');
  const rawValues = ['%00', 'a%00b', '%ff', '%ED%A0%80', '1e999', 'NaN', '-1', '', 'x'.repeat(5000), '1.5', '0x10'];
  const one = (p: Parameter) =>
    fc.oneof(
      { weight: 3, arbitrary: validFromSchema(resolveRef(p.schema), 0, 0, p.name).map((v) => `${p.name}=${pct(String(v))}`) },
      { weight: 2, arbitrary: fc.constantFrom(...rawValues).map((v) => `${p.name}=${v}`) },
      { weight: 1, arbitrary: fc.constant(`${p.name}=1&${p.name}=2`) },
      { weight: 1, arbitrary: fc.constant(`${p.name}[a]=1`) },
    );
  const unknown = fc.constantFrom('colour=red', '%00=1', '__proto__=x', '&&&', '=', 'a=%');
  return fc
    .tuple(...params.map((p) => fc.option(one(p), { nil: undefined, freq: 2 })), fc.option(unknown, { nil: undefined, freq: 6 }))
    .map((parts) => {
      const q = parts.filter((x): x is string => x !== undefined).join('&');
      return q ? `?${q}` : '';
    });
}

/** The raw bytes of a JSON body: mostly the value serialised, sometimes broken on purpose. */
function jsonBodyArb(schema: Schema): fc.Arbitrary<{ body: Buffer; contentType: string }> {
  const value = fc.constantFrom(0, 0, 30, 200).chain((hostility) => fromSchema(schema, hostility));
  const text = value.map((v) => JSON.stringify(v) ?? 'null');
  const broken = fc.oneof(
    text.map((t) => t.replace(/^\{/, '{"name":"a","name":"b",')),
    text.map((t) => t.replace(/(:\s*)(-?\d+(?:\.\d+)?)/, '$1NaN')),
    text.map((t) => t.replace(/(:\s*)(-?\d+(?:\.\d+)?)/, '$1-Infinity')),
    text.map((t) => t.replace(/(:\s*)(-?\d+(?:\.\d+)?)/, '$11e999')),
    text.chain((t) => fc.nat(t.length).map((n) => t.slice(0, n))),
    text.map((t) => `\ufeff${t}`),
    text.map((t) => `${t} trailing`),
    fc.constantFrom('', ' ', 'null', '[]', '"s"', '1', '{', '['.repeat(100_000), '{"a":' + '['.repeat(70) + ']'.repeat(70) + '}'),
  );
  const textBody = fc.oneof({ weight: 6, arbitrary: text }, { weight: 3, arbitrary: broken }).map((t) => Buffer.from(t, 'utf8'));
  const badBytes = text.map((t) => Buffer.concat([Buffer.from(t.slice(0, Math.max(1, t.length - 2)), 'utf8'), Buffer.from([0xff, 0xc0, 0x80, 0xed, 0xa0, 0x80]), Buffer.from(t.slice(-2), 'utf8')]));
  const big = fc.constant(Buffer.from(JSON.stringify({ name: 'x'.repeat(1_100_000) })));
  const body = fc.oneof({ weight: 12, arbitrary: textBody }, { weight: 1, arbitrary: badBytes }, { weight: 1, arbitrary: big });
  const contentType = fc.oneof(
    { weight: 12, arbitrary: fc.constant('application/json') },
    { weight: 1, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'application/json; charset=latin1', 'application/json; charset="UTF-16"') },
    { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/xml', 'application/json; boundary=x') },
  );
  return fc.record({ body, contentType });
}

/** A multipart body for the model upload, assembled by hand so its framing can be broken too. */
function multipartArb(): fc.Arbitrary<{ body: Buffer; contentType: string }> {
  const boundary = '----fuzz7MA4YWxkTrZu0gW';
  const text = fc.oneof(fc.constantFrom('yolox', 'm', ''), fc.constantFrom(...HOSTILE_STRINGS), fc.string({ unit: 'binary', maxLength: 30 }));
  const labels = fc.oneof(
    fc.constant(Buffer.from('person\nbicycle\ncar\n')),
    fc.array(fc.oneof(fc.constantFrom('person', '', 'x'.repeat(300)), fc.constantFrom(...HOSTILE_STRINGS)), { maxLength: 6 }).map((l) => Buffer.from(l.join('\n'))),
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  );
  const file = fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 256 }).map((b) => Buffer.from(b)), fc.constant(Buffer.from('not onnx')));
  const part = fc.oneof(
    text.map((v) => ({ name: 'name', value: Buffer.from(v) })),
    text.map((v) => ({ name: 'format', value: Buffer.from(v) })),
    file.map((v) => ({ name: 'file', filename: 'm.onnx', value: v })),
    labels.map((v) => ({ name: 'labels', filename: 'labels.txt', value: v })),
    fc.constantFrom('colour', 'file', '\u0000').map((n) => ({ name: n, value: Buffer.from('x') })),
  );
  // Usually the four parts an upload needs, in any order, plus perhaps one more.
  const complete = fc
    .tuple(text, text, file, labels, fc.option(part, { nil: undefined }))
    .chain(([n, f, w, l, more]) =>
      fc.shuffledSubarray(
        [
          { name: 'name', value: Buffer.from(n) },
          { name: 'format', value: Buffer.from(f === '' ? 'yolox' : f) },
          { name: 'file', filename: 'm.onnx', value: w },
          { name: 'labels', filename: 'labels.txt', value: l },
          ...(more ? [more] : []),
        ],
        { minLength: 3 },
      ),
    );
  const wellFormed = fc.oneof(complete, fc.array(part, { maxLength: 6 })).map((parts) => {
    const chunks: Buffer[] = [];
    for (const p of parts) {
      const fn = 'filename' in p ? `; filename="${p.filename}"` : '';
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${fn}\r\n\r\n`), p.value, Buffer.from('\r\n'));
    }
    chunks.push(Buffer.from(`--${boundary}--\r\n`));
    return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
  });
  const broken = fc.oneof(
    wellFormed.chain((m) => fc.nat(m.body.length).map((n) => ({ ...m, body: m.body.subarray(0, n) }))),
    wellFormed.map((m) => ({ ...m, contentType: 'multipart/form-data' })),
    fc.uint8Array({ maxLength: 200 }).map((b) => ({ body: Buffer.from(b), contentType: `multipart/form-data; boundary=${boundary}` })),
    wellFormed.map((m) => ({ ...m, contentType: 'application/json' })),
  );
  return fc.oneof({ weight: 2, arbitrary: wellFormed }, { weight: 1, arbitrary: broken });
}

function requestArb(op: Operation): fc.Arbitrary<FuzzRequest> {
  const headerParams = op.parameters.filter((p) => p.in === 'header');
  const headers = fc
    .tuple(...headerParams.map((p) => fc.option(fc.oneof(validFromSchema(resolveRef(p.schema), 0, 0, p.name).map(String), fc.constantFrom('-1', 'x', '9'.repeat(40), '')), { nil: undefined })))
    .map((vals) => Object.fromEntries(headerParams.map((p, i) => [p.name, vals[i]]).filter(([, v]) => v !== undefined)) as Record<string, string>);
  const body = op.json ? fc.option(jsonBodyArb(op.json), { nil: undefined, freq: 12 }) : op.multipart ? multipartArb() : fc.constant(undefined);
  return fc.record({ path: pathArb(op), query: queryArb(op), headers, body }).map(({ path, query, headers: hs, body: b }) => ({
    method: op.method,
    path: path + query,
    headers: { ...hs, ...(b ? { 'content-type': b.contentType } : {}) },
    body: b?.body,
  }));
}

/**
 * What a careful caller sends: an id the server holds, known query parameters with valid values, a JSON
 * body following the schema (all of it, or only the required keys). Many are still refused (a rule's
 * random polygon crosses itself, a client_id is not the config's), but some get through: without them the
 * handlers behind validation would rarely be reached, and a mutating operation perhaps never succeed.
 */
function plausibleRequestArb(op: Operation): fc.Arbitrary<FuzzRequest> {
  const path = fillPath(op, fc.constantFrom(...ownIds(op)));
  const params = op.parameters.filter((p) => p.in === 'query');
  const query = fc
    .tuple(...params.map((p) => fc.option(validFromSchema(resolveRef(p.schema), 0, 0, p.name).map((v) => `${p.name}=${encodeURIComponent(String(v))}`), { nil: undefined })))
    .map((parts) => {
      const q = parts.filter((x): x is string => x !== undefined).join('&');
      return q ? `?${q}` : '';
    });
  const schema = op.json ? resolveRef(op.json) : undefined;
  const body: fc.Arbitrary<{ body: Buffer; contentType: string } | undefined> = schema
    ? fc
        .oneof(validFromSchema(schema, 0, 0), objectFromSchema(schema, 0, 0, true))
        .map((v) => ({ body: Buffer.from(JSON.stringify(v)), contentType: 'application/json' }))
    : op.multipart
      ? multipartArb()
      : fc.constant(undefined);
  return fc.record({ path, query, body }).map(({ path: p, query: q, body: b }) => ({
    method: op.method,
    path: p + q,
    headers: b ? { 'content-type': b.contentType } : ({} as Record<string, string>),
    body: b?.body,
  }));
}

// ---------------------------------------------------------------- sending and checking

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/**
 * Over a real socket. An SSE stream that opens (200) is closed at once: its headers are the answer. A
 * connection that ends without a whole answer (reset, closed, cut short) is a failure, never a hang.
 */
function send(r: FuzzRequest, to = base): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(to);
    let answered = false;
    let writeError: string | undefined;
    const req = httpRequest(
      { host: url.hostname, port: url.port, method: r.method, path: r.path, headers: { ...r.headers, ...(r.body ? { 'content-length': String(r.body.length) } : {}) } },
      (res) => {
        answered = true;
        const contentType = String(res.headers['content-type'] ?? '');
        if (contentType.startsWith('text/event-stream')) {
          resolve({ status: res.statusCode ?? 0, contentType, body: '' });
          res.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
        res.on('close', () => {
          if (!res.complete) reject(new Error(`the answer (${res.statusCode}) was cut off before its end`));
        });
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code;
      // The server may answer 413 and close before a large body is fully written: the answer still
      // counts if one came. Whether it did is known at 'close'.
      if (code === 'EPIPE' || code === 'ECONNRESET') writeError = code;
      else reject(err);
    });
    req.on('close', () => {
      if (!answered) reject(new Error(`the connection closed with no answer${writeError ? ` (${writeError})` : ''}`));
    });
    req.end(r.body);
  });
}

function describeRequest(r: FuzzRequest): string {
  const body = r.body ? ` body(${r.body.length} B)=${JSON.stringify(r.body.subarray(0, 300).toString('latin1'))}` : '';
  return `${r.method} ${r.path.slice(0, 300)} headers=${JSON.stringify(r.headers)}${body}`;
}

function checkAnswer(a: Answer): void {
  expect(a.status, `status ${a.status}: ${a.body.slice(0, 500)}`).toBeLessThan(500);
  if (a.status >= 400) {
    expect(a.contentType, a.body.slice(0, 300)).toMatch(/^application\/json/);
    const parsed = JSON.parse(a.body) as Record<string, unknown>;
    expect(Object.keys(parsed).sort(), a.body.slice(0, 300)).toEqual(['detail', 'error']);
    expect(typeof parsed.error).toBe('string');
    expect(typeof parsed.detail).toBe('string');
  }
}

// ---------------------------------------------------------------- the tests

const statusesSeen = new Map<string, Set<number>>();

/**
 * The operations that change something and must have answered 2xx at least once: else no generated request
 * got past validation there, and "no 5xx" would say little about their handlers. The fixtures hold one of
 * each that nothing uses (a model, a config, a finished run), so the DELETEs can succeed. Not here:
 * POST /v1/models, which needs a real ONNX graph (models.test.ts uploads one).
 */
const MUST_SUCCEED = [
  'DELETE /v1/models/{id}',
  'POST /v1/configs',
  'PUT /v1/configs/{id}',
  'DELETE /v1/configs/{id}',
  'POST /v1/runs',
  'DELETE /v1/runs/{id}',
  'POST /v1/runs/{id}/stop',
];

beforeAll(async () => {
  h = await startApi();
  const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
  base = address;
  const { port } = h.app.server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
  fixtures.modelIds.push(await insertModelRow(h.db.pool, COCO_LIKE, 'fuzz-a'), await insertModelRow(h.db.pool, COCO_LIKE, 'fuzz-b'));
  for (const client of ['acme', 'globex']) {
    const c = await h.app.inject({ method: 'POST', url: '/v1/configs', payload: { name: 'fuzz', client_id: client, model_id: fixtures.modelIds[0] } });
    if (c.statusCode !== 201) throw new Error(`fixture config: ${c.body}`);
    fixtures.configIds.push(c.json().id);
    const r = await h.app.inject({ method: 'POST', url: '/v1/runs', payload: { client_id: client, config_id: c.json().id, source_url: 'rtsp://cam/1' } });
    if (r.statusCode !== 201) throw new Error(`fixture run: ${r.body}`);
    fixtures.runIds.push(r.json().id);
  }
  // What nothing uses (so a DELETE can succeed): the model fuzz-b (no config), a config without runs, a finished run.
  const spare = await h.app.inject({ method: 'POST', url: '/v1/configs', payload: { name: 'fuzz-spare', client_id: 'acme', model_id: fixtures.modelIds[0] } });
  if (spare.statusCode !== 201) throw new Error(`fixture config: ${spare.body}`);
  fixtures.configIds.push(spare.json().id);
  const done = await h.app.inject({ method: 'POST', url: '/v1/runs', payload: { client_id: 'acme', config_id: fixtures.configIds[0], source_url: 'rtsp://cam/2' } });
  const stopped = await h.app.inject({ method: 'POST', url: `/v1/runs/${done.json().id}/stop` });
  if (stopped.json().state !== 'stopped') throw new Error(`fixture run: ${stopped.body}`);
  fixtures.runIds.push(done.json().id);
  operations = await readOperations(h.app);
});

afterAll(async () => {
  const summary = [...statusesSeen].map(([op, s]) => `${op}: ${[...s].sort().join(' ')}`).join('\n');
  if (summary) process.stdout.write(`fuzz (seed ${SEED}, ${RUNS} hostile + ${PLAUSIBLE_RUNS} plausible per operation), statuses seen:\n${summary}\n`);
  await h?.close();
});

describe(`OpenAPI fuzz (seed ${SEED})`, () => {
  it('the document lists every operation of the API', () => {
    const listed = operations.map((o) => `${o.method} ${o.path}`);
    expect(listed.length).toBeGreaterThanOrEqual(19);
    for (const op of ['POST /v1/models', 'PUT /v1/configs/{id}', 'POST /v1/runs', 'GET /v1/runs/{id}/events/stream']) expect(listed).toContain(op);
  });

  it('every operation: no 5xx, every 4xx in our {error, detail} shape', async () => {
    const failures: string[] = [];
    for (const [i, op] of operations.entries()) {
      const key = `${op.method} ${op.path}`;
      const seen = new Set<number>();
      statusesSeen.set(key, seen);
      const seed = SEED + i;
      // The hostile mix, then plausible requests (the same checks: a valid request must not be a 5xx either).
      for (const [what, arb, numRuns] of [['hostile', requestArb(op), RUNS], ['plausible', plausibleRequestArb(op), PLAUSIBLE_RUNS]] as const) {
        const result = await fc.check(
          fc.asyncProperty(arb, async (r) => {
            const a = await send(r);
            seen.add(a.status);
            try {
              checkAnswer(a);
            } catch (err) {
              throw new Error(`${describeRequest(r)}\n→ ${a.status} ${a.body.slice(0, 500)}\n${(err as Error).message}`, { cause: err });
            }
          }),
          // No shrinking: each step is a request, and the first counterexample is already concrete.
          { seed, numRuns, endOnFailure: true },
        );
        if (result.failed) {
          const message = result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
          failures.push(`${key}, ${what} (seed ${seed}; rerun with SIE_FUZZ_SEED=${SEED}): ${message}`);
        }
      }
    }
    expect(failures, failures.join('\n\n')).toEqual([]);
    // Not vacuous: requests got past validation where they can, and were refused somewhere.
    const succeeded = (key: string) => [...(statusesSeen.get(key) ?? [])].some((s) => s >= 200 && s < 300);
    expect(MUST_SUCCEED.filter((key) => !succeeded(key)), 'operations that never answered 2xx').toEqual([]);
    const all = new Set([...statusesSeen.values()].flatMap((s) => [...s]));
    expect([...all].some((s) => s >= 400 && s < 500)).toBe(true);
  });

  it('a connection that closes with no answer fails the request (it neither hangs nor passes)', async () => {
    // A server that resets every connection once the request arrives, or closes it without a word.
    let n = 0;
    const srv = createTcpServer((s) => s.once('data', () => (n++ % 2 === 0 ? s.resetAndDestroy() : s.end())));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const to = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
      const get: FuzzRequest = { method: 'GET', path: '/healthz', headers: {} };
      await expect(send(get, to)).rejects.toThrow(/closed with no answer/);
      await expect(send(get, to)).rejects.toThrow(/closed with no answer/);
      // Reset while a large body is still being written (EPIPE or ECONNRESET on our side).
      const post: FuzzRequest = { method: 'POST', path: '/v1/configs', headers: { 'content-type': 'application/json' }, body: Buffer.alloc(4 << 20, 0x20) };
      await expect(send(post, to)).rejects.toThrow(/closed with no answer/);
    } finally {
      await new Promise((r) => srv.close(r));
    }
  });
});
