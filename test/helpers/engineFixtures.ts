import { readFileSync } from 'node:fs';
import type { Pool } from 'pg';
import { SHARED } from './media.js';

/** Where the engine finds model files in these tests: the shared models folder (nothing is copied). */
export const MODELS_DIR = `${SHARED}/models`;

/** A model row for the shared YOLOX-nano, as the API would store it, and a config using it. */
export async function insertModelAndConfig(pool: Pool, clientId = 'acme', body: object = {}): Promise<{ modelId: string; configId: string }> {
  const labels = readFileSync(`${MODELS_DIR}/coco_classes.txt`, 'utf8').trim().split('\n');
  const m = await pool.query<{ id: string }>(
    `INSERT INTO models (name, format, sha256, file_path, labels_path, size_bytes, input_width, input_height, labels)
     VALUES ('yolox-nano', 'yolox', md5(random()::text), 'yolox_nano.onnx', 'coco_classes.txt', 3660092, 416, 416, $1)
     RETURNING id`,
    [JSON.stringify(labels)],
  );
  const modelId = m.rows[0]!.id;
  const full = { inference: { confidence: 0.3, iou: 0.45, every_nth_frame: 1 }, rules: [], drawing: {}, ...body };
  const c = await pool.query<{ id: string }>(
    `INSERT INTO configs (client_id, name, model_id, body) VALUES ($1, 'test', $2, $3) RETURNING id`,
    [clientId, modelId, JSON.stringify(full)],
  );
  const configId = c.rows[0]!.id;
  await pool.query(`INSERT INTO config_versions (config_id, version, model_id, body) VALUES ($1, 1, $2, $3) ON CONFLICT DO NOTHING`, [
    configId,
    modelId,
    JSON.stringify(full),
  ]);
  return { modelId, configId };
}

/** A run inserted with one plain SQL INSERT — the documented contract. */
export async function insertRun(pool: Pool, configId: string, sourceUrl: string, extra: Record<string, unknown> = {}): Promise<string> {
  const cols = ['client_id', 'config_id', 'source_url', ...Object.keys(extra)];
  const vals = ['acme', configId, sourceUrl, ...Object.values(extra)];
  const r = await pool.query<{ id: string }>(
    `INSERT INTO runs (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id`,
    vals,
  );
  return r.rows[0]!.id;
}

export interface RunRow {
  state: string;
  engine_id: string | null;
  attempts: number;
  error_kind: string | null;
  error_message: string | null;
  output_url: string | null;
  /** The source as the holding engine measured it (null before). */
  source_width: number | null;
  source_height: number | null;
  source_fps: number | null;
}

export async function getRun(pool: Pool, id: string): Promise<RunRow> {
  const r = await pool.query<RunRow>(`SELECT state, engine_id, attempts, error_kind, error_message, output_url, source_width, source_height, source_fps FROM runs WHERE id = $1`, [id]);
  return r.rows[0]!;
}

export async function transitions(pool: Pool, id: string): Promise<string[]> {
  const r = await pool.query<{ to_state: string }>(`SELECT to_state FROM run_transitions WHERE run_id = $1 ORDER BY id`, [id]);
  return r.rows.map((x) => x.to_state);
}

/** Polls until the run satisfies `ok` (or throws with the last row after the timeout). */
export async function waitForRun(pool: Pool, id: string, ok: (r: RunRow) => boolean, timeoutMs: number): Promise<RunRow> {
  const t0 = Date.now();
  let last = await getRun(pool, id);
  while (!ok(last)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`run ${id} not as expected after ${timeoutMs} ms: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
    last = await getRun(pool, id);
  }
  return last;
}

/**
 * Waits until an engine started after `since` has its LISTEN connection set up (all three channels: the
 * last LISTEN is done and the connection idle), so a NOTIFY sent now reaches it.
 */
export async function waitForListen(pool: Pool, since: Date, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const r = await pool.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM pg_stat_activity
       WHERE datname = current_database() AND backend_start >= $1 AND state = 'idle' AND query ILIKE 'LISTEN%sie_config_changed%'`,
      [since],
    );
    if (Number(r.rows[0]!.n) > 0) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`no LISTEN connection after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/**
 * Holds the runs' rows locked (FOR UPDATE, in an open transaction) until release(): an engine's release of
 * them (releaseRun locks the row) waits meanwhile, so a signal sent now certainly lands during the drain.
 */
export async function holdRunRows(pool: Pool, runIds: string[]): Promise<{ release(): Promise<void> }> {
  const c = await pool.connect();
  await c.query('BEGIN');
  await c.query(`SELECT id FROM runs WHERE id = ANY($1) FOR UPDATE`, [runIds]);
  let held = true;
  return {
    async release() {
      if (!held) return;
      held = false;
      try {
        await c.query('COMMIT');
      } finally {
        c.release();
      }
    },
  };
}
