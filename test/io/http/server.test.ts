import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../../src/io/db/pool.js';
import { buildApi } from '../../../src/io/http/app.js';
import { filesUnder, LABELS, MODEL, modelForm, startApi, type Harness } from './harness.js';

let h: Harness;
let base: string;

beforeAll(async () => {
  h = await startApi();
  base = await h.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(() => h.close());

describe('over a real socket', () => {
  it('uploads a model, creates a config and a run, reads it back', async () => {
    const form = modelForm({ file: await readFile(MODEL), labels: await readFile(LABELS, 'utf8'), name: 'nano', format: 'yolox' });
    const up = await fetch(`${base}/v1/models`, { method: 'POST', body: form });
    expect(up.status).toBe(201);
    const model = (await up.json()) as { id: string; sha256: string };
    expect(await filesUnder(h.dataDir)).toHaveLength(2);

    const json = { 'content-type': 'application/json' };
    const cfg = await fetch(`${base}/v1/configs`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ name: 'door', client_id: 'acme', model_id: model.id, inference: { classes: ['person', 'car'] } }),
    });
    expect(cfg.status).toBe(201);
    const config = (await cfg.json()) as { id: string };
    const run = await fetch(`${base}/v1/runs`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ client_id: 'acme', config_id: config.id, source_url: 'rtsp://u:topsecret@cam/1' }),
    });
    expect(run.status).toBe(201);
    const text = await run.text();
    expect(text).not.toContain('topsecret');
    const { id } = JSON.parse(text) as { id: string };
    const got = await fetch(`${base}/v1/runs/${id}`);
    expect(got.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await got.json()).toMatchObject({ id, state: 'pending', source_url: 'rtsp://u:***@cam/1' });
  });

  it('answers errors as JSON {error, detail}', async () => {
    const r = await fetch(`${base}/v1/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(r.status).toBe(400);
    const body = (await r.json()) as { error: string; detail: string };
    expect(body.error).toBe('validation');
    expect(body.detail).toMatch(/client_id/);
  });
});

describe('health and documentation', () => {
  it('healthz and readyz answer ok with the database up', async () => {
    expect((await h.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await h.app.inject('/readyz')).json()).toEqual({ status: 'ok', checks: { database: { ok: true } } });
    expect((await h.app.inject('/startupz')).json()).toEqual({ status: 'ok', checks: { migrated: { ok: true } } });
  });

  it('readyz answers 503 when the database is unreachable, healthz still 200', async () => {
    const pool = createPool('postgres://postgres@127.0.0.1:1/nowhere');
    const app = await buildApi({ pool, dataDir: h.dataDir });
    try {
      const r = await app.inject('/readyz');
      expect(r.statusCode).toBe(503);
      expect(r.json().error).toBe('unavailable');
      expect(r.json().detail).toMatch(/^database: /);
      expect(r.json().checks.database.ok).toBe(false);
      expect((await app.inject('/healthz')).statusCode).toBe(200);
    } finally {
      await app.close();
      await pool.end();
    }
  });

  it('serves the OpenAPI document and the docs UI', async () => {
    const doc = (await h.app.inject('/openapi.json')).json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ['/v1/models', '/v1/models/{id}', '/v1/configs', '/v1/configs/{id}', '/v1/runs', '/v1/runs/{id}', '/v1/runs/{id}/transitions', '/v1/runs/{id}/stop', '/healthz', '/readyz']) {
      expect(doc.paths, p).toHaveProperty([p]);
    }
    expect(doc.paths['/v1/models'].post.requestBody.content).toHaveProperty(['multipart/form-data']);
    expect(doc.paths['/v1/runs'].post.requestBody.content['application/json'].schema.required).toEqual(['client_id', 'config_id', 'source_url']);
    const ui = await h.app.inject('/docs');
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const r = await h.app.inject('/v2/nothing');
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({ error: 'not_found', detail: 'no route GET /v2/nothing' });
  });
});
