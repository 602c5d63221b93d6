import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

let db: TestDatabase;
let listener: pg.Client;
const notes: { channel: string; payload: string }[] = [];
let configId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  // LISTEN on its own direct connection, as the engine does (a pooled one could be handed to others).
  listener = new pg.Client({ connectionString: db.url });
  await listener.connect();
  listener.on('notification', (n) => notes.push({ channel: n.channel, payload: n.payload ?? '' }));
  await listener.query('LISTEN sie_runs; LISTEN sie_run_stop; LISTEN sie_config_changed');
  const m = await db.pool.query<{ id: string }>(
    `INSERT INTO models (name, format, sha256, file_path, labels_path, size_bytes, input_width, input_height, labels)
     VALUES ('m', 'yolox', 'abc', 'models/abc.onnx', 'models/abc.labels.txt', 1, 416, 416, '["person"]') RETURNING id`,
  );
  const c = await db.pool.query<{ id: string }>(
    `INSERT INTO configs (client_id, name, model_id, body) VALUES ('acme', 'c', $1, '{}') RETURNING id`,
    [m.rows[0]!.id],
  );
  configId = c.rows[0]!.id;
});
afterAll(async () => {
  await listener.end();
  await db.drop();
});

async function insertRun(extra: Record<string, unknown> = {}): Promise<string> {
  const row: Record<string, unknown> = { client_id: 'acme', config_id: configId, source_url: 'rtsp://cam/1', ...extra };
  const cols = Object.keys(row);
  const vals = Object.values(row);
  const { rows } = await db.pool.query<{ id: string }>(
    `INSERT INTO runs (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`,
    vals,
  );
  return rows[0]!.id;
}

// sie_runs says the pool ('' = any) and the transaction (migration 0009): `<pool> <txid>`.
const poolOf = (n: { channel: string; payload: string }) => (n.channel === 'sie_runs' ? /^([a-z0-9-]*) \d+$/.exec(n.payload)?.[1] : n.payload);
const heard = (channel: string, payload: string) => notes.some((n) => n.channel === channel && poolOf(n) === payload);

describe('the runs contract', () => {
  it('refuses a run whose config belongs to another client, by INSERT or UPDATE, naming the constraint', async () => {
    await expect(insertRun({ client_id: 'campus' })).rejects.toThrow(/violates foreign key constraint "runs_config_of_same_client"/);
    const id = await insertRun();
    await expect(db.pool.query(`UPDATE runs SET client_id = 'campus' WHERE id = $1`, [id])).rejects.toThrow(/runs_config_of_same_client/);
    // Nor can the config change hands under its runs.
    await expect(db.pool.query(`UPDATE configs SET client_id = 'campus' WHERE id = $1`, [configId])).rejects.toThrow(/runs_config_of_same_client/);
  });

  it('a plain INSERT gets every default, its created transition and a sie_runs NOTIFY', async () => {
    const id = await insertRun();
    const { rows } = await db.pool.query('SELECT * FROM runs WHERE id = $1', [id]);
    expect(rows[0]).toMatchObject({
      state: 'pending',
      config_version: null,
      output_mount: null,
      retry_max_attempts: 5,
      retry_backoff_initial_s: 1,
      retry_backoff_max_s: 30,
      connect_timeout_s: 10,
      attempts: 0,
      lease_epoch: '0',
      engine_id: null,
    });
    const t = await db.pool.query('SELECT from_state, to_state, reason FROM run_transitions WHERE run_id = $1', [id]);
    expect(t.rows).toEqual([{ from_state: null, to_state: 'pending', reason: 'created' }]);
    // The payload names the pool the run asks for, '' for any (migration 0008).
    await expect.poll(() => heard('sie_runs', '')).toBe(true);
  });

  it('NOTIFYs sie_runs when a run is handed back to pending, not on other updates', async () => {
    const id = await insertRun({ pool: 'gpu' });
    await expect.poll(() => heard('sie_runs', 'gpu')).toBe(true);
    notes.length = 0;
    await db.pool.query(`UPDATE runs SET state = 'running' WHERE id = $1`, [id]);
    await db.pool.query(`UPDATE runs SET attempts = 1 WHERE id = $1`, [id]);
    await db.pool.query('SELECT pg_sleep(0.05)');
    expect(notes.filter((n) => n.channel === 'sie_runs')).toEqual([]);
    await db.pool.query(`UPDATE runs SET state = 'pending' WHERE id = $1`, [id]);
    await expect.poll(() => heard('sie_runs', 'gpu')).toBe(true);
    expect(notes.filter((n) => n.channel === 'sie_runs')).toHaveLength(1);
  });

  it('10,000 runs inserted in one statement wake a listener once per pool, not once per run', async () => {
    notes.length = 0;
    await db.pool.query(
      `INSERT INTO runs (client_id, config_id, source_url, pool)
       SELECT 'acme', $1, 'rtsp://bulk/' || i, CASE WHEN i % 2 = 0 THEN 'gpu' END FROM generate_series(1, 10000) i`,
      [configId],
    );
    await expect.poll(() => heard('sie_runs', 'gpu') && heard('sie_runs', '')).toBe(true);
    await db.pool.query('SELECT pg_sleep(0.05)');
    const nudges = notes.filter((n) => n.channel === 'sie_runs');
    expect(nudges.map(poolOf).sort()).toEqual(['', 'gpu']);
    // One transaction: one token.
    expect(new Set(nudges.map((n) => n.payload.split(' ')[1])).size).toBe(1);
    await db.pool.query(`DELETE FROM runs WHERE source_url LIKE 'rtsp://bulk/%'`);
  });

  it('NOTIFYs sie_run_stop once when a stop is requested', async () => {
    const id = await insertRun();
    await db.pool.query(`UPDATE runs SET stop_requested_at = now() WHERE id = $1`, [id]);
    await db.pool.query(`UPDATE runs SET stop_requested_at = now() WHERE id = $1`, [id]);
    await expect.poll(() => heard('sie_run_stop', id)).toBe(true);
    await db.pool.query('SELECT pg_sleep(0.05)');
    expect(notes.filter((n) => n.channel === 'sie_run_stop' && n.payload === id)).toHaveLength(1);
  });

  it('NOTIFYs sie_config_changed with the config id for each new version', async () => {
    await db.pool.query(
      `INSERT INTO config_versions (config_id, version, model_id, body) SELECT id, 2, model_id, body FROM configs WHERE id = $1`,
      [configId],
    );
    await expect.poll(() => heard('sie_config_changed', configId)).toBe(true);
  });

  it.each([
    [{ retry_backoff_initial_s: 40 }, /runs_backoff_order/],
    [{ attempts: -1 }, /attempts_check/],
    [{ connect_timeout_s: 0 }, /connect_timeout_s_check/],
    [{ state: 'sleeping' }, /state_check/],
    [{ output_mount: 'a/../b' }, /runs_mount_format/],
    [{ config_id: '00000000-0000-4000-8000-000000000000' }, /foreign key/],
  ])('rejects %j', async (extra, message) => {
    await expect(insertRun(extra)).rejects.toThrow(message);
  });

  it('keeps one unfinished run per output mount', async () => {
    const first = await insertRun({ output_mount: 'gate' });
    await expect(insertRun({ output_mount: 'gate' })).rejects.toThrow(/runs_live_mount_idx/);
    await db.pool.query(`UPDATE runs SET state = 'completed' WHERE id = $1`, [first]);
    await expect(insertRun({ output_mount: 'gate' })).resolves.toMatch(/-/);
  });

  it("an engine row cannot be deleted while an unfinished run names it; once the run is finished it can (migration 0012)", async () => {
    await db.pool.query(
      `INSERT INTO engines (id, hostname, advertise_host, rtsp_port, max_runs, lease_expires_at) VALUES ('e1', 'h', '127.0.0.1', 8554, 4, now())`,
    );
    const id = await insertRun({ engine_id: 'e1', state: 'running' });
    // SET NULL would leave a running run that no engine holds and no reclaim finds (it starts from engines).
    await expect(db.pool.query(`DELETE FROM engines WHERE id = 'e1'`)).rejects.toMatchObject({ code: '23503' });
    await db.pool.query(`UPDATE runs SET state = 'stopped', engine_id = NULL, ended_at = now() WHERE id = $1`, [id]);
    await db.pool.query(`DELETE FROM engines WHERE id = 'e1'`);
    expect((await db.pool.query(`SELECT 1 FROM engines WHERE id = 'e1'`)).rowCount).toBe(0);
  });

  it('refuses a run naming a config version that does not exist (migration 0013); none means the current one', async () => {
    await expect(insertRun({ config_version: 99 })).rejects.toMatchObject({ code: '23503', constraint: 'runs_config_version_fkey' });
    const id = await insertRun({});
    expect((await db.pool.query('SELECT config_version FROM runs WHERE id = $1', [id])).rows[0].config_version).toBeNull();
  });

  it('rejects a model format it cannot run', async () => {
    await expect(
      db.pool.query(
        `INSERT INTO models (name, format, sha256, file_path, labels_path, size_bytes, input_width, input_height, labels)
         VALUES ('m', 'yolov8', 'def', 'f', 'l', 1, 640, 640, '[]')`,
      ),
    ).rejects.toThrow(/format_check/);
  });
});
