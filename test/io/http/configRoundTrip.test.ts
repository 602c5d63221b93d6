import { readFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../../src/config/file.js';
import { insertModelRow, startApi, type Harness } from './harness.js';

/**
 * One config document: a file (the README's example) POSTs with a model_id added; what GET answers can be
 * PUT back as it is, and given to `sie replay --config`; nothing stored is lost on the way, secrets included.
 */
let h: Harness;
let modelId: string;

beforeAll(async () => {
  h = await startApi();
  // The COCO labels: the plaza file names car, truck, bus and bicycle.
  const coco = (await readFile('../shared/models/coco_classes.txt', 'utf8')).trim().split('\n');
  modelId = await insertModelRow(h.db.pool, coco);
});
afterAll(() => h.close());

const get = async (id: string) => (await h.app.inject(`/v1/configs/${id}`)).json() as Record<string, unknown> & { id: string; version: number };
const put = (id: string, payload: unknown) => h.app.inject({ method: 'PUT', url: `/v1/configs/${id}`, payload: payload as Record<string, unknown> });

describe('a config document round-trips', () => {
  it('file → POST (with model_id) → GET → PUT unchanged → GET: same document, one version more', async () => {
    const file = JSON.parse(await readFile('test/fixtures/plaza-rules.json', 'utf8')) as Record<string, unknown>;
    const created = await h.app.inject({ method: 'POST', url: '/v1/configs', payload: { ...file, model_id: modelId } });
    expect(created.statusCode, created.body).toBe(201);
    const fetched = await get(created.json().id);
    const r = await put(fetched.id, fetched);
    expect(r.statusCode, r.body).toBe(200);
    const again = await get(fetched.id);
    const { version: v1, updated_at: _u1, ...before } = fetched;
    const { version: v2, updated_at: _u2, ...after } = again;
    expect(after).toEqual(before);
    expect([v1, v2]).toEqual([1, 2]);
  });

  it('GET → replay: the fetched document is a config file sie replay takes, with the same sections', async () => {
    const created = await h.app.inject({ method: 'POST', url: '/v1/configs', payload: { name: 'lobby', client_id: 'acme', model_id: modelId, rules: [{ id: 'z', type: 'zone_presence', zone: [[0, 0], [1, 0], [1, 1], [0, 1]] }] } });
    const fetched = await get(created.json().id);
    const dir = await mkdtemp(join(tmpdir(), 'sie-config-'));
    await writeFile(join(dir, 'c.json'), JSON.stringify(fetched));
    const file = await loadConfigFile(join(dir, 'c.json'));
    expect(file).toMatchObject({ name: 'lobby', clientId: 'acme' });
    expect(file.body).toEqual({ inference: fetched.inference, rules: fetched.rules, drawing: fetched.drawing });
  });

  it('a PUT of the GET document keeps the webhook’s secrets, which GET shows as ***', async () => {
    const webhook = { url: 'https://hook:s3cret-Pw@example.test/events', headers: { Authorization: 'Bearer tok-123', 'X-Site': 'north' }, timeout_s: 5 };
    const created = await h.app.inject({ method: 'POST', url: '/v1/configs', payload: { name: 'hooked', client_id: 'acme', model_id: modelId, webhook } });
    const fetched = await get(created.json().id);
    expect(fetched.webhook).toEqual({ url: 'https://hook:***@example.test/events', headers: { Authorization: '***', 'X-Site': '***' }, timeout_s: 5 });
    // The user changes one header and the timeout, and sends the rest back as fetched.
    const edited = { ...fetched, webhook: { ...(fetched.webhook as object), headers: { Authorization: '***', 'X-Site': 'south' }, timeout_s: 8 } };
    expect((await put(fetched.id, edited)).statusCode).toBe(200);
    const { rows } = await h.db.pool.query('SELECT body FROM configs WHERE id = $1', [fetched.id]);
    expect(rows[0].body.webhook).toEqual({ ...webhook, headers: { Authorization: 'Bearer tok-123', 'X-Site': 'south' }, timeout_s: 8 });
    // Stars the stored webhook does not have are refused, not stored.
    const now = await get(fetched.id);
    const bad = await put(fetched.id, { ...now, webhook: { url: 'https://other:***@example.test/', headers: { Authorization: '***' } } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().detail).toMatch(/^webhook\.url: the password '\*\*\*' is the redacted one/);
    const badHeader = await put(fetched.id, { ...now, webhook: { ...(now.webhook as object), headers: { Token: '***' } } });
    expect(badHeader.json().detail).toMatch(/^webhook\.headers\.Token: '\*\*\*' is the redacted value/);
    // webhook: null (as GET shows a config without one) removes it.
    expect((await put(fetched.id, { ...(await get(fetched.id)), webhook: null })).statusCode).toBe(200);
    expect((await get(fetched.id)).webhook).toBeNull();
  });

  it('read-only fields: id must be the path’s, a stale version is a 409 and changes nothing; POST refuses an id', async () => {
    const created = await h.app.inject({ method: 'POST', url: '/v1/configs', payload: { name: 'v', client_id: 'acme', model_id: modelId } });
    const v1 = await get(created.json().id);
    expect((await put(v1.id, { ...v1, name: 'first edit' })).statusCode).toBe(200);
    // A second editor started from version 1 too.
    const stale = await put(v1.id, { ...v1, name: 'second edit' });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().detail).toMatch(/^version: config .* is at version 2, this edit started from version 1/);
    expect(await get(v1.id)).toMatchObject({ name: 'first edit', version: 2 });
    // Without a version, last writer wins as before.
    const { version: _v, ...unversioned } = v1;
    expect((await put(v1.id, { ...unversioned, name: 'third' })).statusCode).toBe(200);
    const other = await h.app.inject({ method: 'POST', url: '/v1/configs', payload: { name: 'o', client_id: 'acme', model_id: modelId } });
    const wrongId = await put(v1.id, { ...unversioned, id: other.json().id });
    expect(wrongId.statusCode).toBe(422);
    expect(wrongId.json().detail).toMatch(/^id: .* is not the config in the path/);
    const copy = await h.app.inject({ method: 'POST', url: '/v1/configs', payload: { ...(await get(v1.id)) } });
    expect(copy.statusCode).toBe(422);
    expect(copy.json().detail).toMatch(/^id: set by the server; to replace config .*, PUT \/v1\/configs\//);
  });
});
