import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfig, filesUnder, insertModelRow, LABELS, MODEL, modelForm, startApi, type Harness } from './harness.js';

/**
 * Hostile input at the API's edge (issue 12, items 3 and 4): every answer is a 4xx in our `{error, detail}`
 * shape naming the field, never a 500, and nothing is half-stored.
 */
let h: Harness;
let modelId: string;
let weights: Buffer;
let labels: string;

beforeAll(async () => {
  h = await startApi();
  modelId = await insertModelRow(h.db.pool);
  weights = await readFile(MODEL);
  labels = await readFile(LABELS, 'utf8');
});
afterAll(() => h.close());

const json = (method: 'POST' | 'PUT', url: string, body: string | Buffer, contentType = 'application/json') =>
  h.app.inject({ method, url, headers: { 'content-type': contentType }, payload: body });

function expectError(r: { statusCode: number; json(): unknown; body: string }, status: number, error: string, detail: RegExp): void {
  expect(r.statusCode, r.body).toBe(status);
  expect(r.json()).toEqual({ error, detail: expect.stringMatching(detail) });
}

const count = async (table: string): Promise<number> => (await h.db.pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;

describe('strings the database cannot store (NUL, lone surrogates)', () => {
  const base = () => ({ name: 'c', client_id: 'acme', model_id: modelId });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['NUL in name', { name: 'a\u0000b' }, /^name: contains a NUL character/],
    ['NUL in client_id', { client_id: 'ac\u0000me' }, /^client_id: contains a NUL/],
    ['lone surrogate in a rule name', { rules: [{ id: 'r', type: 'zone_presence', name: 'door \ud800', zone: [[0, 0], [1, 0], [1, 1]] }] }, /^rules\.0\.name: contains a lone UTF-16 surrogate \(U\+D800\)/],
    ['NUL in the webhook URL', { webhook: { url: 'https://example.test/\u0000' } }, /^webhook\.url: contains a NUL/],
    ['lone surrogate in a class', { inference: { classes: ['\udc00'] } }, /^inference\.classes\.0: contains a lone/],
    ['NUL in a record key', { drawing: { colors: { 'per\u0000son': '#ff0000' } } }, /^drawing\.colors: has a key that contains a NUL/],
  ])('POST /v1/configs: %s → 400 naming the field, nothing stored', async (_what, patch, detail) => {
    const before = await count('configs');
    expectError(await json('POST', '/v1/configs', JSON.stringify({ ...base(), ...patch })), 400, 'validation', detail);
    expect(await count('configs')).toBe(before);
  });

  it('PUT /v1/configs/{id} refuses them too and keeps the version', async () => {
    const c = await createConfig(h.app, { client_id: 'acme', model_id: modelId });
    expectError(await json('PUT', `/v1/configs/${c.id}`, JSON.stringify({ name: 'x\u0000', model_id: modelId })), 400, 'validation', /^name: /);
    expect((await h.app.inject(`/v1/configs/${c.id}`)).json().version).toBe(1);
  });

  it('POST /v1/runs: NUL in source_url or client_id → 400', async () => {
    const c = await createConfig(h.app, { client_id: 'acme', model_id: modelId });
    for (const [patch, detail] of [
      [{ source_url: 'rtsp://cam/\u0000' }, /^source_url: contains a NUL/],
      [{ client_id: 'acme\ud800' }, /^client_id: contains a lone/],
      [{ output: { mount: 'a\u0000' } }, /^output\.mount: contains a NUL/],
    ] as const) {
      const body = { client_id: 'acme', config_id: c.id, source_url: 'rtsp://cam/1', ...patch };
      expectError(await json('POST', '/v1/runs', JSON.stringify(body)), 400, 'validation', detail);
    }
    expect(await count('runs')).toBe(0);
  });

  it.each(['/v1/configs?client_id=a%00b', '/v1/runs?client_id=a%00b', '/v1/runs?state=a%00'])('query %s → 400 naming the parameter', async (url) => {
    expectError(await h.app.inject(url), 400, 'validation', /^(client_id|state): contains a NUL/);
  });

  it('a path parameter with a NUL → 400', async () => {
    expectError(await h.app.inject('/v1/runs/a%00b'), 400, 'validation', /^id: contains a NUL/);
  });
});

describe('JSON bodies', () => {
  it('invalid UTF-8 → 400 naming the byte, not U+FFFD stored', async () => {
    const body = Buffer.concat([Buffer.from('{"name": "caf'), Buffer.from([0xe9]), Buffer.from(`", "client_id": "acme", "model_id": "${modelId}"}`)]);
    expectError(await json('POST', '/v1/configs', body), 400, 'validation', /^body: invalid UTF-8 at byte 13$/);
    const { rows } = await h.db.pool.query(`SELECT count(*)::int AS n FROM configs WHERE name LIKE 'caf%'`);
    expect(rows[0].n).toBe(0);
  });

  it('a charset other than UTF-8 → 415; utf-8 in any spelling is accepted', async () => {
    const body = JSON.stringify({ name: 'café', client_id: 'acme', model_id: modelId });
    expectError(await json('POST', '/v1/configs', Buffer.from(body, 'latin1'), 'application/json; charset=latin1'), 415, 'unsupported_media_type', /charset "latin1"/);
    expectError(await json('POST', '/v1/configs', body, 'application/json; charset="ISO-8859-1"'), 415, 'unsupported_media_type', /charset "iso-8859-1"/);
    const ok = await json('POST', '/v1/configs', body, 'application/json; charset="UTF-8"');
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().name).toBe('café');
  });

  it('a duplicate key → 400 naming it and where it is', async () => {
    const body = `{"name": "c", "client_id": "acme", "model_id": "${modelId}",\n "inference": {"confidence": 0.9, "confidence": 0.1}}`;
    expectError(await json('POST', '/v1/configs', body), 400, 'validation', /^body: invalid JSON: duplicate key "confidence" in inference at line 2, column 35 \(position 121\)$/);
  });

  it.each([
    ['{"name": NaN}', /NaN is not a JSON value at line 1, column 10 \(position 9\)/],
    ['{"name": "c",\n"inference": {"confidence": Infinity}}', /Infinity is not a JSON value at line 2, column 29/],
    ['{"inference": {"confidence": 1e999}}', /number 1e999 is too large at line 1, column 30/],
    ['{"name": "c"', /unexpected end of input .* at line 1, column 13/],
    ['['.repeat(10_000), /nested deeper than 64 levels at line 1, column 65/],
  ])('malformed JSON %# → 400 saying where', async (body, detail) => {
    expectError(await json('POST', '/v1/configs', body), 400, 'validation', detail);
  });
});

describe("Fastify's own errors in our shape", () => {
  it.each<[string, () => Promise<{ statusCode: number; json(): unknown; body: string }>, number, string, RegExp]>([
    ['bad percent-encoding in the path', () => h.app.inject('/v1/configs/%ff'), 400, 'validation', /^path: /],
    ['an over-long id', () => h.app.inject(`/v1/runs/${'a'.repeat(5000)}`), 400, 'validation', /^path: a parameter is longer than 100/],
    ['an unknown route', () => h.app.inject('/v2/nothing'), 404, 'not_found', /^no route GET \/v2\/nothing$/],
    ['an unknown method', () => h.app.inject({ method: 'PATCH', url: '/v1/configs' }), 404, 'not_found', /PATCH/],
    ['text/plain', () => json('POST', '/v1/configs', 'hello', 'text/plain'), 415, 'unsupported_media_type', /^body: /],
    ['an unknown content type', () => json('POST', '/v1/runs', '<x/>', 'application/xml'), 415, 'unsupported_media_type', /^body: /],
    ['a body over 1 MB', () => json('POST', '/v1/configs', `"${'a'.repeat(1_100_000)}"`), 413, 'too_large', /^body: /],
    ['JSON to the multipart upload', () => json('POST', '/v1/models', '{}'), 415, 'unsupported_media_type', /^body: /],
  ])('%s', async (_what, send, status, error, detail) => {
    expectError(await send(), status, error, detail);
  });
});

describe('POST /v1/models: hostile uploads store nothing', () => {
  let h2: Harness;
  beforeAll(async () => {
    h2 = await startApi();
  });
  afterAll(() => h2.close());
  const upload = (payload: FormData | string, contentType?: string) =>
    h2.app.inject({ method: 'POST', url: '/v1/models', payload, ...(contentType ? { headers: { 'content-type': contentType } } : {}) });
  const stored = async () => ({ files: await filesUnder(join(h2.dataDir, 'models')), rows: (await h2.db.pool.query('SELECT count(*)::int AS n FROM models')).rows[0].n });

  it.each<[string, () => FormData | [string, string], number, RegExp]>([
    ['no boundary', () => ['garbage', 'multipart/form-data'], 400, /^body: malformed multipart\/form-data/],
    ['a garbage body', () => ['garbage\r\n--xyz\r\nfoo', 'multipart/form-data; boundary=xyz'], 400, /^body: malformed multipart\/form-data/],
    ['a part cut short', () => ['--xyz\r\nContent-Disposition: form-data; name="file"; filename="m.onnx"\r\n\r\nabc', 'multipart/form-data; boundary=xyz'], 400, /^body: malformed/],
    ['a NUL in the name field', () => modelForm({ file: weights, labels, name: 'yolo\u0000x', format: 'yolox' }), 400, /^name: contains a NUL/],
    ['a NUL in the labels file', () => modelForm({ file: weights, labels: labels.replace('car', 'c\u0000ar'), name: 'm', format: 'yolox' }), 422, /^labels: labels\.txt: line 3 contains a NUL/],
    ['80 identical labels', () => modelForm({ file: weights, labels: 'person\n'.repeat(80), name: 'm', format: 'yolox' }), 422, /^labels: labels\.txt: line 2 repeats "person" of line 1/],
    ['a 5,000-character label', () => modelForm({ file: weights, labels: labels.replace('car', 'c'.repeat(5000)), name: 'm', format: 'yolox' }), 422, /^labels: labels\.txt: line 3 is 5000 characters long; at most 200/],
    ['a labels file in Latin-1', () => modelForm({ file: weights, labels: Buffer.from(labels.replace('car', 'café'), 'latin1'), name: 'm', format: 'yolox' }), 422, /^labels: labels\.txt: invalid UTF-8/],
  ])('%s → %d', async (_what, make, status, detail) => {
    const p = make();
    const r = Array.isArray(p) ? await upload(p[0], p[1]) : await upload(p);
    expect(r.statusCode, r.body).toBe(status);
    expect(r.json()).toEqual({ error: status === 400 ? 'validation' : 'unprocessable', detail: expect.stringMatching(detail) });
    expect(await stored()).toEqual({ files: [], rows: 0 });
  });

  it('a row that cannot be written leaves no file behind (the upload is all or nothing)', async () => {
    // A constraint the validation knows nothing about: the INSERT fails after every check passed.
    await h2.db.pool.query(`ALTER TABLE models ADD CONSTRAINT test_no_boom CHECK (name <> 'boom')`);
    try {
      const r = await upload(modelForm({ file: weights, labels, name: 'boom', format: 'yolox' }));
      expect(r.statusCode).toBe(500);
      expect(r.json()).toEqual({ error: 'internal', detail: 'internal error; see the server log' });
      expect(await stored()).toEqual({ files: [], rows: 0 });
    } finally {
      await h2.db.pool.query('ALTER TABLE models DROP CONSTRAINT test_no_boom');
    }
  });

  it('a COMMIT that fails takes the files back, and a restored model keeps its old labels file', async () => {
    // A deferred constraint trigger fails at COMMIT, after the files were moved into place.
    await h2.db.pool.query(`
      CREATE FUNCTION test_refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.name = 'boom' THEN RAISE EXCEPTION 'boom refused at commit'; END IF; RETURN NULL; END $$;
      CREATE CONSTRAINT TRIGGER test_boom AFTER INSERT OR UPDATE ON models DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION test_refuse_boom();`);
    try {
      const fresh = await upload(modelForm({ file: weights, labels, name: 'boom', format: 'yolox' }));
      expect(fresh.statusCode).toBe(500);
      expect(await stored()).toEqual({ files: [], rows: 0 });

      // Now a model that exists, is deleted (its files stay), and is uploaded again with other labels: the
      // failed restore must leave the old labels file, not the new one.
      const first = await upload(modelForm({ file: weights, labels, name: 'first', format: 'yolox' }));
      expect(first.statusCode, first.body).toBe(201);
      const { id, sha256 } = first.json();
      expect((await h2.app.inject({ method: 'DELETE', url: `/v1/models/${id}` })).statusCode).toBe(204);
      const before = await stored();
      const labelsPath = join(h2.dataDir, `models/${sha256}.labels.txt`);
      const oldLabels = await readFile(labelsPath, 'utf8');
      const again = await upload(modelForm({ file: weights, labels: labels.replace('person', 'human'), name: 'boom', format: 'yolox' }));
      expect(again.statusCode).toBe(500);
      expect(await stored()).toEqual(before);
      expect(await readFile(labelsPath, 'utf8')).toBe(oldLabels);
      expect((await h2.db.pool.query('SELECT deleted_at IS NOT NULL AS deleted FROM models WHERE id = $1', [id])).rows[0].deleted).toBe(true);
    } finally {
      await h2.db.pool.query('DROP TRIGGER test_boom ON models; DROP FUNCTION test_refuse_boom()');
    }
  });
});

describe('POST /v1/models: two uploads of the same bytes', () => {
  let h3: Harness;
  beforeAll(async () => {
    h3 = await startApi();
  });
  afterAll(() => h3.close());

  it('the first failing at COMMIT never takes away the files of the second, which succeeds', async () => {
    // The first COMMIT of a models row fails (a sequence is not rolled back), every later one passes.
    await h3.db.pool.query(`
      CREATE SEQUENCE test_commits;
      CREATE FUNCTION test_refuse_first() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF nextval('test_commits') = 1 THEN PERFORM pg_sleep(0.3); RAISE EXCEPTION 'first commit refused'; END IF; RETURN NULL; END $$;
      CREATE CONSTRAINT TRIGGER test_first AFTER INSERT ON models DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION test_refuse_first();`);
    const upload = () => h3.app.inject({ method: 'POST', url: '/v1/models', payload: modelForm({ file: weights, labels, name: 'twin', format: 'yolox' }) });
    const answers = await Promise.all([upload(), upload()]);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 500]);
    const won = answers.find((a) => a.statusCode === 201)!.json();
    expect((await h3.app.inject(`/v1/models/${won.id}`)).statusCode).toBe(200);
    // The stored model's files are there: the failed upload took back nothing the winner uses.
    expect(await filesUnder(join(h3.dataDir, 'models'))).toEqual(expect.arrayContaining([`${won.sha256}.onnx`, `${won.sha256}.labels.txt`]));
  });
});

describe('DELETE /v1/models/{id} while configs use it', () => {
  it('answers 409 naming the configs and keeps the model', async () => {
    const m = await insertModelRow(h.db.pool);
    const a = await createConfig(h.app, { name: 'lobby', client_id: 'acme', model_id: m });
    const b = await createConfig(h.app, { name: 'gate', client_id: 'globex', model_id: m });
    const r = await h.app.inject({ method: 'DELETE', url: `/v1/models/${m}` });
    expectError(r, 409, 'conflict', new RegExp(`used by 2 config\\(s\\): ${a.id} \\("lobby"\\), ${b.id} \\("gate"\\)`));
    expect((await h.app.inject(`/v1/models/${m}`)).statusCode).toBe(200);
    // Moving a config to another model frees this one only when no config is left on it.
    expect((await h.app.inject({ method: 'PUT', url: `/v1/configs/${a.id}`, payload: { name: 'lobby', model_id: modelId } })).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'DELETE', url: `/v1/models/${m}` })).statusCode).toBe(409);
    expect((await h.app.inject({ method: 'DELETE', url: `/v1/configs/${b.id}` })).statusCode).toBe(204);
    expect((await h.app.inject({ method: 'DELETE', url: `/v1/models/${m}` })).statusCode).toBe(204);
  });

  it('racing a config creation, never leaves a live config on a deleted model', async () => {
    for (let i = 0; i < 15; i++) {
      const m = await insertModelRow(h.db.pool);
      const [created, deleted] = await Promise.all([
        h.app.inject({ method: 'POST', url: '/v1/configs', payload: { name: `race-${i}`, client_id: 'race', model_id: m } }),
        h.app.inject({ method: 'DELETE', url: `/v1/models/${m}` }),
      ]);
      // Exactly one wins: the config (the delete is refused) or the delete (the config is refused).
      expect([created.statusCode, deleted.statusCode].sort(), `${created.body} ${deleted.body}`).toSatisfy(
        (s: number[]) => (s[0] === 201 && s[1] === 409) || (s[0] === 204 && s[1] === 422),
      );
    }
    const { rows } = await h.db.pool.query(
      `SELECT count(*)::int AS n FROM configs c JOIN models m ON m.id = c.model_id WHERE c.deleted_at IS NULL AND m.deleted_at IS NOT NULL`,
    );
    expect(rows[0].n).toBe(0);
  });

  it('unknown model → 404', async () => {
    expectError(await h.app.inject({ method: 'DELETE', url: `/v1/models/${randomUUID()}` }), 404, 'not_found', /does not exist/);
  });
});
