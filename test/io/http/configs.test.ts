import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configBodySchema } from '../../../src/config/body.js';
import { createConfig, createRun, insertModelRow, startApi, type Harness } from './harness.js';

let h: Harness;
let modelId: string;

beforeAll(async () => {
  h = await startApi();
  modelId = await insertModelRow(h.db.pool);
});
afterAll(() => h.close());

const post = (payload: Record<string, unknown>) => h.app.inject({ method: 'POST', url: '/v1/configs', payload });
const put = (id: string, payload: Record<string, unknown>) => h.app.inject({ method: 'PUT', url: `/v1/configs/${id}`, payload });
const defaults = configBodySchema.parse({});
const zoneRule = (id: string, classes: string[]) => ({ id, type: 'zone_presence', classes, zone: [[0, 0], [1, 0], [1, 1], [0, 1]] });

describe('POST /v1/configs', () => {
  it('needs only name, client_id and model_id; the sections get their defaults; version 1', async () => {
    const r = await post({ name: 'lobby', client_id: 'acme', model_id: modelId });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json()).toMatchObject({ name: 'lobby', client_id: 'acme', model_id: modelId, version: 1, ...defaults });
    const { rows } = await h.db.pool.query('SELECT version, model_id, body FROM config_versions WHERE config_id = $1', [r.json().id]);
    expect(rows).toEqual([{ version: 1, model_id: modelId, body: defaults }]);
  });

  it('stores a webhook whole and shows it with its secrets redacted', async () => {
    const webhook = { url: 'https://hook:s3cret-Pw@example.test/events', headers: { Authorization: 'Bearer tok-123' }, timeout_s: 5 };
    const r = await post({ name: 'hooked', client_id: 'acme', model_id: modelId, webhook });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.body).not.toContain('s3cret-Pw');
    expect(r.body).not.toContain('tok-123');
    expect(r.json().webhook.url).toBe('https://hook:***@example.test/events');
    const { rows } = await h.db.pool.query('SELECT body FROM config_versions WHERE config_id = $1', [r.json().id]);
    expect(rows[0].body.webhook).toEqual(webhook);
    expect((await h.app.inject({ method: 'GET', url: `/v1/configs/${r.json().id}` })).body).not.toContain('s3cret-Pw');
  });

  it('keeps given sections, defaults filled inside them', async () => {
    const r = await post({ name: 'c', client_id: 'acme', model_id: modelId, inference: { confidence: 0.5, classes: ['person'] } });
    expect(r.statusCode).toBe(201);
    expect(r.json().inference).toEqual({ ...defaults.inference, confidence: 0.5, classes: ['person'] });
  });

  it.each([
    [{ inference: { confidence: 1.5 } }, /^inference\.confidence: /],
    [{ inference: { confidenc: 0.5 } }, /^inference: .*confidenc/],
    [{ colour: 'red' }, /^body: .*colour/],
    [{ drawing: { thickness: 0 } }, /^drawing\.thickness: /],
    [{ model_id: 'nope' }, /^model_id: /],
    [{ name: '' }, /^name: /],
    [{ client_id: undefined }, /^client_id: /],
  ])('answers 400 naming the field: %j', async (patch, detail) => {
    const r = await post({ name: 'c', client_id: 'acme', model_id: modelId, ...patch });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toEqual({ error: 'validation', detail: expect.stringMatching(detail) });
  });

  it('answers 400 to malformed JSON', async () => {
    const r = await h.app.inject({ method: 'POST', url: '/v1/configs', headers: { 'content-type': 'application/json' }, payload: '{"name":' });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toBe('validation');
  });

  it('answers 422 naming model_id for an unknown or deleted model', async () => {
    const unknown = await post({ name: 'c', client_id: 'acme', model_id: randomUUID() });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().detail).toMatch(/^model_id: /);
    const gone = await insertModelRow(h.db.pool);
    await h.db.pool.query('UPDATE models SET deleted_at = now() WHERE id = $1', [gone]);
    expect((await post({ name: 'c', client_id: 'acme', model_id: gone })).statusCode).toBe(422);
  });

  it.each([
    [{ inference: { classes: ['persn'] } }, "inference.classes.0: 'persn' is not a class of the model (did you mean 'person'?)"],
    [{ drawing: { blur_classes: ['persn'] } }, "drawing.blur_classes.0: 'persn' is not a class of the model (did you mean 'person'?)"],
    [{ drawing: { colors: { Car: '#00ff00' } } }, "drawing.colors.Car: 'Car' is not a class of the model (did you mean 'car'?)"],
    [{ rules: [zoneRule('door', ['person', 'unicorn'])] }, "rules.0.classes.1: 'unicorn' is not a class of the model"],
  ])("answers 422 naming every class the model's labels do not have, and stores nothing: %j", async (patch, detail) => {
    const before = (await h.db.pool.query('SELECT count(*)::int AS n FROM configs')).rows[0].n;
    const r = await post({ name: 'c', client_id: 'acme', model_id: modelId, ...patch });
    expect(r.statusCode, r.body).toBe(422);
    expect(r.json()).toEqual({ error: 'unprocessable', detail: expect.stringContaining(detail) });
    expect((await h.db.pool.query('SELECT count(*)::int AS n FROM configs')).rows[0].n).toBe(before);
  });

  it('lists every unknown class of one config in one answer', async () => {
    const r = await post({ name: 'c', client_id: 'acme', model_id: modelId, rules: [zoneRule('a', ['dog'])], drawing: { blur_classes: ['face'] } });
    expect(r.statusCode).toBe(422);
    expect(r.json().detail).toMatch(/rules\.0\.classes\.0: 'dog'.*; drawing\.blur_classes\.0: 'face'/);
  });
});

describe('GET /v1/configs', () => {
  it('lists by client and reads one; 404 for unknown', async () => {
    const other = await createConfig(h.app, { client_id: 'globex', model_id: modelId });
    const acme = (await h.app.inject('/v1/configs?client_id=acme')).json();
    expect(acme.length).toBeGreaterThan(0);
    expect(acme.every((c: { client_id: string }) => c.client_id === 'acme')).toBe(true);
    const all = (await h.app.inject('/v1/configs')).json();
    expect(all.map((c: { id: string }) => c.id)).toContain(other.id);
    expect((await h.app.inject(`/v1/configs/${other.id}`)).json()).toMatchObject({ id: other.id, client_id: 'globex' });
    expect((await h.app.inject(`/v1/configs/${randomUUID()}`)).statusCode).toBe(404);
    const bad = await h.app.inject('/v1/configs?clientid=acme');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toMatch(/clientid/);
  });
});

describe('PUT /v1/configs/{id}', () => {
  it('adds a version with the full new body, NOTIFYing sie_config_changed', async () => {
    const c = await createConfig(h.app, { client_id: 'acme', model_id: modelId });
    const listener = await h.db.pool.connect();
    const notes: string[] = [];
    listener.on('notification', (n) => n.channel === 'sie_config_changed' && notes.push(n.payload ?? ''));
    await listener.query('LISTEN sie_config_changed');
    try {
      const r = await put(c.id, { name: 'renamed', model_id: modelId, drawing: { boxes: false } });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json()).toMatchObject({ id: c.id, version: 2, name: 'renamed', drawing: { ...defaults.drawing, boxes: false } });
      const { rows } = await h.db.pool.query('SELECT version FROM config_versions WHERE config_id = $1 ORDER BY version', [c.id]);
      expect(rows.map((x) => x.version)).toEqual([1, 2]);
      await expect.poll(() => notes).toContain(c.id);
    } finally {
      await listener.query('UNLISTEN *');
      listener.release();
    }
  });

  it('keeps the previous version when the new body is rejected', async () => {
    const c = await createConfig(h.app, { client_id: 'acme', model_id: modelId, inference: { confidence: 0.6 } });
    expect((await put(c.id, { name: 'c', model_id: modelId, inference: { confidence: 7 } })).statusCode).toBe(400);
    expect((await put(c.id, { name: 'c', model_id: randomUUID() })).statusCode).toBe(422);
    expect((await put(c.id, { name: 'c', model_id: modelId, client_id: 'globex' })).statusCode).toBe(422);
    const now = (await h.app.inject(`/v1/configs/${c.id}`)).json();
    expect(now).toMatchObject({ version: 1, inference: { confidence: 0.6 } });
  });

  it('refuses a version naming a class the model lacks (blur, colours, rules): the stored version stays the one that runs', async () => {
    const c = await createConfig(h.app, { client_id: 'acme', model_id: modelId, drawing: { blur_classes: ['person'] } });
    for (const patch of [{ drawing: { blur_classes: ['persn'] } }, { drawing: { colors: { persn: '#ff0000' } } }, { rules: [zoneRule('z', ['unicorn'])] }]) {
      const r = await put(c.id, { name: 'c', model_id: modelId, ...patch });
      expect(r.statusCode, r.body).toBe(422);
      expect(r.json().error).toBe('unprocessable');
    }
    // Moving to a model without a class the config uses is refused the same way.
    const noPerson = await insertModelRow(h.db.pool, ['car', 'truck']);
    const moved = await put(c.id, { name: 'c', model_id: noPerson, drawing: { blur_classes: ['person'] } });
    expect(moved.statusCode).toBe(422);
    expect(moved.json().detail).toMatch(/drawing\.blur_classes\.0: 'person'/);
    expect((await h.app.inject(`/v1/configs/${c.id}`)).json()).toMatchObject({ version: 1, model_id: modelId, drawing: { blur_classes: ['person'] } });
    const { rows } = await h.db.pool.query('SELECT version FROM config_versions WHERE config_id = $1', [c.id]);
    expect(rows).toEqual([{ version: 1 }]);
  });

  it('answers 404 for an unknown or deleted config', async () => {
    expect((await put(randomUUID(), { name: 'c', model_id: modelId })).statusCode).toBe(404);
  });
});

describe('DELETE /v1/configs/{id}', () => {
  it('answers 409 while an unfinished run uses it, 204 after; then 404', async () => {
    const c = await createConfig(h.app, { client_id: 'acme', model_id: modelId });
    const run = await createRun(h.app, { client_id: 'acme', config_id: c.id, source_url: 'rtsp://cam/2' });
    const refused = await h.app.inject({ method: 'DELETE', url: `/v1/configs/${c.id}` });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toBe('conflict');
    await h.db.pool.query(`UPDATE runs SET state = 'failed' WHERE id = $1`, [run.id]);
    expect((await h.app.inject({ method: 'DELETE', url: `/v1/configs/${c.id}` })).statusCode).toBe(204);
    expect((await h.app.inject(`/v1/configs/${c.id}`)).statusCode).toBe(404);
    expect((await put(c.id, { name: 'c', model_id: modelId })).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'DELETE', url: `/v1/configs/${c.id}` })).statusCode).toBe(404);
    // The run's history still points at it.
    expect((await h.app.inject(`/v1/runs/${run.id}`)).json().config_id).toBe(c.id);
  });
});
