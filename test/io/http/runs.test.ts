import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../../src/io/http/app.js';
import { createConfig, createRun, insertModelRow, startApi, type Harness } from './harness.js';

let h: Harness;
let configId: string;
const SECRET = 's3cr3t-Pa55';
const CAM = `rtsp://admin:${SECRET}@10.0.0.7:554/stream1`;

beforeAll(async () => {
  h = await startApi();
  const modelId = await insertModelRow(h.db.pool);
  configId = (await createConfig(h.app, { client_id: 'acme', model_id: modelId })).id;
});
afterAll(() => h.close());

const post = (payload: Record<string, unknown>) => h.app.inject({ method: 'POST', url: '/v1/runs', payload });

describe('POST /v1/runs', () => {
  it('creates a pending run with the defaults and the config version pinned', async () => {
    const r = await post({ client_id: 'acme', config_id: configId, source_url: 'rtsp://cam.local/1' });
    expect(r.statusCode, r.body).toBe(201);
    const run = r.json();
    expect(run).toMatchObject({
      client_id: 'acme',
      config_id: configId,
      config_version: 1,
      state: 'pending',
      source_url: 'rtsp://cam.local/1',
      output: { mount: run.id },
      output_url: null,
      retry: { max_attempts: 5, backoff_initial_s: 1, backoff_max_s: 30 },
      connect_timeout_s: 10,
      attempts: 0,
      error: null,
      engine: null,
      started_at: null,
      ended_at: null,
    });
    const t = (await h.app.inject(`/v1/runs/${run.id}/transitions`)).json();
    expect(t).toEqual([{ from: null, to: 'pending', reason: 'created', error: null, engine: null, at: expect.any(String) }]);
  });

  it('never shows a camera password: POST, GET and the list are redacted', async () => {
    const r = await post({ client_id: 'acme', config_id: configId, source_url: CAM, output: { mount: 'lobby/cam-1' } });
    expect(r.statusCode).toBe(201);
    expect(r.json().source_url).toBe('rtsp://admin:***@10.0.0.7:554/stream1');
    expect(r.body).not.toContain(SECRET);
    const one = await h.app.inject(`/v1/runs/${r.json().id}`);
    expect(one.json().source_url).toBe('rtsp://admin:***@10.0.0.7:554/stream1');
    const list = await h.app.inject('/v1/runs?client_id=acme');
    expect(list.body).toContain('admin:***@');
    for (const body of [one.body, list.body]) expect(body).not.toContain(SECRET);
    // Stored as given: the engine needs the real URL.
    const { rows } = await h.db.pool.query('SELECT source_url FROM runs WHERE id = $1', [r.json().id]);
    expect(rows[0].source_url).toBe(CAM);
  });

  // file:// sources need a media root: runs.urls.test.ts.
  it('takes rtsps:// sources and explicit retry settings', async () => {
    const a = await post({ client_id: 'acme', config_id: configId, source_url: 'rtsps://u:p@cam/x', connect_timeout_s: 3 });
    expect(a.statusCode).toBe(201);
    const b = await post({
      client_id: 'acme',
      config_id: configId,
      source_url: 'rtsp://cam.local/2',
      retry: { max_attempts: 0, backoff_initial_s: 0.5, backoff_max_s: 2 },
    });
    expect(b.statusCode).toBe(201);
    expect(b.json().retry).toEqual({ max_attempts: 0, backoff_initial_s: 0.5, backoff_max_s: 2 });
  });

  it.each([
    [{ source_url: 'http://cam/1' }, /^source_url: /],
    [{ source_url: 'file://relative/x.mp4' }, /^source_url: /],
    [{ source_url: 'rtsp://' }, /^source_url: /],
    [{ output: { mount: '../x' } }, /^output\.mount: /],
    [{ output: { path: 'x' } }, /^output: .*path/],
    [{ retry: { backoff_initial_s: 60 } }, /^retry\.backoff_initial_s: must be ≤ backoff_max_s/],
    [{ retry: { max_attempts: -1 } }, /^retry\.max_attempts: /],
    [{ connect_timeout_s: 0 }, /^connect_timeout_s: /],
    [{ config_id: 'x' }, /^config_id: /],
    [{ engine: 'e1' }, /^body: .*engine/],
  ])('answers 400 naming the field: %j', async (patch, detail) => {
    const r = await post({ client_id: 'acme', config_id: configId, source_url: 'rtsp://cam/1', ...patch });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toEqual({ error: 'validation', detail: expect.stringMatching(detail) });
  });

  it('redacts a password from a validation error too', async () => {
    const r = await post({ client_id: 'acme', config_id: configId, source_url: `http://admin:${SECRET}@cam/1` });
    expect(r.statusCode).toBe(400);
    expect(r.body).not.toContain(SECRET);
  });

  it("answers 422 for a missing config or another client's config", async () => {
    const missing = await post({ client_id: 'acme', config_id: randomUUID(), source_url: 'rtsp://cam/1' });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().detail).toMatch(/^config_id: /);
    const foreign = await post({ client_id: 'globex', config_id: configId, source_url: 'rtsp://cam/1' });
    expect(foreign.statusCode).toBe(422);
  });

  it('answers 409 for a mount an unfinished run publishes on, and allows it once that run ended', async () => {
    const first = await createRun(h.app, { client_id: 'acme', config_id: configId, source_url: 'rtsp://cam/1', output: { mount: 'door' } });
    const dup = await post({ client_id: 'acme', config_id: configId, source_url: 'rtsp://cam/2', output: { mount: 'door' } });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().detail).toMatch(/^output\.mount: /);
    await h.app.inject({ method: 'POST', url: `/v1/runs/${first.id}/stop` });
    expect((await post({ client_id: 'acme', config_id: configId, source_url: 'rtsp://cam/2', output: { mount: 'door' } })).statusCode).toBe(201);
  });
});

describe('GET /v1/runs', () => {
  it('filters by state and client; rejects unknown states and keys', async () => {
    const pending = (await h.app.inject('/v1/runs?state=pending&client_id=acme')).json();
    expect(pending.length).toBeGreaterThan(0);
    expect(pending.every((r: { state: string }) => r.state === 'pending')).toBe(true);
    expect((await h.app.inject('/v1/runs?client_id=nobody')).json()).toEqual([]);
    expect((await h.app.inject('/v1/runs?limit=1')).json()).toHaveLength(1);
    expect((await h.app.inject('/v1/runs?state=sleeping')).statusCode).toBe(400);
    expect((await h.app.inject('/v1/runs?sort=asc')).statusCode).toBe(400);
  });

  it('shows a run inserted with plain SQL (the documented contract), with its created transition', async () => {
    const { rows } = await h.db.pool.query<{ id: string }>(
      'INSERT INTO runs (client_id, config_id, source_url) VALUES ($1, $2, $3) RETURNING id',
      ['acme', configId, 'rtsp://sql:pw@cam/9'],
    );
    const id = rows[0]!.id;
    const list = (await h.app.inject('/v1/runs?client_id=acme&state=pending')).json();
    const run = list.find((r: { id: string }) => r.id === id);
    expect(run).toMatchObject({ state: 'pending', config_version: null, source_url: 'rtsp://sql:***@cam/9', output: { mount: id } });
    const t = (await h.app.inject(`/v1/runs/${id}/transitions`)).json();
    expect(t).toMatchObject([{ from: null, to: 'pending', reason: 'created' }]);
  });

  it('answers 404 for an unknown run and its transitions', async () => {
    expect((await h.app.inject(`/v1/runs/${randomUUID()}`)).statusCode).toBe(404);
    expect((await h.app.inject(`/v1/runs/${randomUUID()}/transitions`)).statusCode).toBe(404);
  });

  it('shows engine errors and transitions redacted', async () => {
    const run = await createRun(h.app, { client_id: 'acme', config_id: configId, source_url: CAM });
    await h.db.pool.query(
      `UPDATE runs SET state = 'failed', error_kind = 'source_unreachable', error_message = $2, ended_at = now() WHERE id = $1`,
      [run.id, `cannot open ${CAM}`],
    );
    await h.db.pool.query(
      `INSERT INTO run_transitions (run_id, from_state, to_state, reason, error_kind, error_message, engine_id)
       VALUES ($1, 'connecting', 'failed', 'connect timeout', 'source_unreachable', $2, 'e1')`,
      [run.id, `cannot open ${CAM}`],
    );
    const got = await h.app.inject(`/v1/runs/${run.id}`);
    expect(got.json().error).toEqual({ kind: 'source_unreachable', message: 'cannot open rtsp://admin:***@10.0.0.7:554/stream1' });
    const t = await h.app.inject(`/v1/runs/${run.id}/transitions`);
    expect(t.json()[1]).toMatchObject({ from: 'connecting', to: 'failed', engine: 'e1', error: { kind: 'source_unreachable' } });
    expect(got.body + t.body).not.toContain(SECRET);
  });
});

describe('stop and delete', () => {
  it('stops a pending run at once with a "stopped before start" transition; 409 after', async () => {
    const run = await createRun(h.app, { client_id: 'acme', config_id: configId, source_url: 'rtsp://cam/1' });
    const r = await h.app.inject({ method: 'POST', url: `/v1/runs/${run.id}/stop` });
    expect(r.statusCode).toBe(202);
    expect(r.json()).toMatchObject({ state: 'stopped', stop_requested_at: expect.any(String), ended_at: expect.any(String) });
    const t = (await h.app.inject(`/v1/runs/${run.id}/transitions`)).json();
    expect(t.map((x: { to: string; reason: string }) => [x.to, x.reason])).toEqual([
      ['pending', 'created'],
      ['stopped', 'stopped before start'],
    ]);
    const again = await h.app.inject({ method: 'POST', url: `/v1/runs/${run.id}/stop` });
    expect(again.statusCode).toBe(409);
    expect(again.json().detail).toContain('stopped');
    expect((await h.app.inject({ method: 'POST', url: `/v1/runs/${randomUUID()}/stop` })).statusCode).toBe(404);
  });

  it('only requests the stop of a claimed run (the engine finishes it)', async () => {
    const run = await createRun(h.app, { client_id: 'acme', config_id: configId, source_url: 'rtsp://cam/1' });
    await h.db.pool.query(`UPDATE runs SET state = 'running' WHERE id = $1`, [run.id]);
    const r = await h.app.inject({ method: 'POST', url: `/v1/runs/${run.id}/stop` });
    expect(r.statusCode).toBe(202);
    expect(r.json()).toMatchObject({ state: 'running', stop_requested_at: expect.any(String), ended_at: null });
    // DELETE of an unfinished run: 409.
    expect((await h.app.inject({ method: 'DELETE', url: `/v1/runs/${run.id}` })).statusCode).toBe(409);
  });

  it('deletes a finished run with its history; 404 after', async () => {
    const run = await createRun(h.app, { client_id: 'acme', config_id: configId, source_url: 'rtsp://cam/1' });
    await h.app.inject({ method: 'POST', url: `/v1/runs/${run.id}/stop` });
    expect((await h.app.inject({ method: 'DELETE', url: `/v1/runs/${run.id}` })).statusCode).toBe(204);
    expect((await h.app.inject(`/v1/runs/${run.id}`)).statusCode).toBe(404);
    const { rows } = await h.db.pool.query('SELECT count(*)::int AS n FROM run_transitions WHERE run_id = $1', [run.id]);
    expect(rows[0].n).toBe(0);
    expect((await h.app.inject({ method: 'DELETE', url: `/v1/runs/${run.id}` })).statusCode).toBe(404);
  });
});

describe('logs', () => {
  it('never carry the camera password, even at debug level and without the redacting formatter', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const app = await buildApi({ pool: h.db.pool, dataDir: h.dataDir, logger: pino({ level: 'trace' }, sink) });
    try {
      const post = (payload: Record<string, unknown>) => app.inject({ method: 'POST', url: '/v1/runs', payload });
      const base = { client_id: 'acme', config_id: configId, source_url: CAM };
      const ok = await post({ ...base, output: { mount: 'logcheck' } });
      expect(ok.statusCode).toBe(201);
      expect((await post({ ...base, output: { mount: 'logcheck' } })).statusCode).toBe(409);
      expect((await post({ ...base, source_url: `http://admin:${SECRET}@cam/1` })).statusCode).toBe(400);
      expect((await post({ ...base, client_id: 'globex' })).statusCode).toBe(422);
      expect((await app.inject(`/v1/runs/${ok.json().id}`)).statusCode).toBe(200);
      expect((await app.inject({ method: 'POST', url: `/v1/runs/${ok.json().id}/stop` })).statusCode).toBe(202);
    } finally {
      await app.close();
    }
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.join('')).not.toContain(SECRET);
  });
});
