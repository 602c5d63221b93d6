import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfig, createRun, filesUnder, LABELS, MODEL, modelForm, startApi, type Harness } from './harness.js';

let h: Harness;
let weights: Buffer;
let labels: string;

beforeAll(async () => {
  h = await startApi();
  weights = await readFile(MODEL);
  labels = await readFile(LABELS, 'utf8');
});
afterAll(() => h.close());

const upload = (form: FormData) => h.app.inject({ method: 'POST', url: '/v1/models', payload: form });

describe('POST /v1/models', () => {
  let firstId = '';

  it('stores the real model content-addressed and answers 201 with its metadata', async () => {
    const r = await upload(modelForm({ file: weights, labels, name: 'yolox-nano', format: 'yolox' }));
    expect(r.statusCode, r.body).toBe(201);
    const m = r.json();
    expect(m).toMatchObject({ name: 'yolox-nano', format: 'yolox', input_size: { width: 416, height: 416 }, size_bytes: weights.length });
    expect(m.labels).toHaveLength(80);
    expect(m.labels[0]).toBe('person');
    expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await filesUnder(h.dataDir)).sort()).toEqual([`models/${m.sha256}.labels.txt`, `models/${m.sha256}.onnx`]);
    expect((await readFile(join(h.dataDir, `models/${m.sha256}.onnx`))).equals(weights)).toBe(true);
    firstId = m.id;
  });

  it('answers 200 with the same model when the same bytes come again', async () => {
    const r = await upload(modelForm({ file: weights, labels, name: 'again', format: 'yolox' }));
    expect(r.statusCode).toBe(200);
    expect(r.json().id).toBe(firstId);
    expect(await filesUnder(h.dataDir)).toHaveLength(2);
  });

  it('answers 409 for the same weights with other labels', async () => {
    const other = labels.replace('person', 'human');
    const r = await upload(modelForm({ file: weights, labels: other, name: 'x', format: 'yolox' }));
    expect(r.statusCode).toBe(409);
    expect(r.json().detail).toContain(firstId);
  });

  it('rejects 79 labels for an 80-class head with 422 naming the mismatch, storing nothing', async () => {
    const h2 = await startApi();
    try {
      const short = labels.trim().split('\n').slice(0, 79).join('\n');
      const r = await h2.app.inject({ method: 'POST', url: '/v1/models', payload: modelForm({ file: weights, labels: short, name: 'x', format: 'yolox' }) });
      expect(r.statusCode).toBe(422);
      expect(r.json().error).toBe('unprocessable');
      expect(r.json().detail).toMatch(/^file: .*80 classes.*79/);
      expect(r.json().detail).toContain('yolox_nano.onnx');
      expect(r.json().detail).not.toContain('.part');
      expect(await filesUnder(h2.dataDir)).toEqual([]);
      expect((await h2.db.pool.query('SELECT count(*)::int AS n FROM models')).rows[0].n).toBe(0);
    } finally {
      await h2.close();
    }
  });

  it('rejects a file that is not ONNX with 422 and leaves no file behind', async () => {
    const before = await filesUnder(h.dataDir);
    const r = await upload(modelForm({ file: Buffer.from('this is not a model\n'.repeat(100)), labels, name: 'x', format: 'yolox' }));
    expect(r.statusCode).toBe(422);
    expect(r.json().detail).toMatch(/^file: /);
    expect(await filesUnder(h.dataDir)).toEqual(before);
  });

  it('rejects a labels file with an empty line inside (ids would shift) with 422', async () => {
    const r = await upload(modelForm({ file: weights, labels: 'person\n\ncar\n', name: 'x', format: 'yolox' }));
    expect(r.statusCode).toBe(422);
    expect(r.json().detail).toMatch(/^labels: .*line 2 is empty/);
  });

  it('answers 413 past the size cap and leaves no file behind', async () => {
    const small = await startApi({ maxModelBytes: 4096 });
    try {
      const r = await small.app.inject({
        method: 'POST',
        url: '/v1/models',
        payload: modelForm({ name: 'x', format: 'yolox', file: weights.subarray(0, 20_000), labels }),
      });
      expect(r.statusCode).toBe(413);
      expect(r.json()).toMatchObject({ error: 'too_large' });
      expect(r.json().detail).toMatch(/^file: /);
      expect(await filesUnder(small.dataDir)).toEqual([]);
    } finally {
      await small.close();
    }
  });

  it.each([
    [{ labels: 'a\n', name: 'x', format: 'yolox' }, /^file: required/],
    [{ file: Buffer.from('x'), name: 'x', format: 'yolox' }, /^labels: required/],
    [{ file: Buffer.from('x'), labels: 'a\n', format: 'yolox' }, /^name: /],
    [{ file: Buffer.from('x'), labels: 'a\n', name: 'x', format: 'yolov99' }, /^format: /],
    [{ file: Buffer.from('x'), labels: 'a\n', name: 'x', format: 'yolox', extra: { colour: 'red' } }, /^colour: unknown field/],
  ])('answers 400 naming the field for %#', async (form, detail) => {
    const r = await upload(modelForm(form));
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toBe('validation');
    expect(r.json().detail).toMatch(detail);
  });

  it('answers 415 to a JSON body', async () => {
    const r = await h.app.inject({ method: 'POST', url: '/v1/models', payload: { name: 'x' } });
    expect(r.statusCode).toBe(415);
    expect(Object.keys(r.json()).sort()).toEqual(['detail', 'error']);
  });
});

describe('GET and DELETE /v1/models', () => {
  it('lists and reads models; 404 and 400 for unknown and malformed ids', async () => {
    const list = (await h.app.inject('/v1/models')).json();
    expect(list).toHaveLength(1);
    const one = await h.app.inject(`/v1/models/${list[0].id}`);
    expect(one.json()).toEqual(list[0]);
    const missing = await h.app.inject('/v1/models/4f4b7d0e-8a4e-4b4c-9d7c-1d2e3f4a5b6c');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toBe('not_found');
    const bad = await h.app.inject('/v1/models/not-a-uuid');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toMatch(/^id: /);
  });

  it('refuses to delete a model an unfinished run or a config uses (409 naming them), deletes it once both are gone', async () => {
    const [model] = (await h.app.inject('/v1/models')).json();
    const config = await createConfig(h.app, { client_id: 'acme', model_id: model.id });
    const run = await createRun(h.app, { client_id: 'acme', config_id: config.id, source_url: 'rtsp://cam/1' });
    const refused = await h.app.inject({ method: 'DELETE', url: `/v1/models/${model.id}` });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().detail).toContain('1 unfinished run');
    expect((await h.app.inject({ method: 'POST', url: `/v1/runs/${run.id}/stop` })).statusCode).toBe(202);
    // The run is finished, but the config still names the model: deleting it would break the config.
    const stillUsed = await h.app.inject({ method: 'DELETE', url: `/v1/models/${model.id}` });
    expect(stillUsed.statusCode).toBe(409);
    expect(stillUsed.json()).toMatchObject({ error: 'conflict' });
    expect(stillUsed.json().detail).toContain(`1 config(s): ${config.id} ("c")`);
    expect((await h.app.inject(`/v1/configs/${config.id}`)).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'DELETE', url: `/v1/configs/${config.id}` })).statusCode).toBe(204);
    const deleted = await h.app.inject({ method: 'DELETE', url: `/v1/models/${model.id}` });
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expect((await h.app.inject(`/v1/models/${model.id}`)).statusCode).toBe(404);
    expect((await h.app.inject('/v1/models')).json()).toEqual([]);
    // Soft delete: the files stay for the config versions that name the model.
    expect(await filesUnder(h.dataDir)).toHaveLength(2);
    expect((await h.app.inject({ method: 'DELETE', url: `/v1/models/${model.id}` })).statusCode).toBe(404);
  });

  it('brings a deleted model back (same id) when its weights are uploaded again', async () => {
    const [row] = (await h.db.pool.query('SELECT id FROM models')).rows;
    const r = await upload(modelForm({ file: weights, labels, name: 'back', format: 'yolox' }));
    expect(r.statusCode).toBe(201);
    expect(r.json()).toMatchObject({ id: row.id, name: 'back' });
  });
});
