import type { Pool } from 'pg';
import type { RuleEvent } from '../../src/rules/index.js';

/** A model, a config (version 1, with `body`) and a run straight in SQL: the events tests need a run id only. */
export async function insertRunRow(
  pool: Pool,
  opts: { clientId?: string; body?: Record<string, unknown> } = {},
): Promise<{ runId: string; configId: string }> {
  const clientId = opts.clientId ?? 'acme';
  const body = JSON.stringify(opts.body ?? { inference: {}, rules: [], drawing: {} });
  const { rows } = await pool.query<{ run_id: string; config_id: string }>(
    `WITH m AS (
       INSERT INTO models (name, format, sha256, file_path, labels_path, size_bytes, input_width, input_height, labels)
       VALUES ('m', 'yolox', gen_random_uuid()::text, 'models/x.onnx', 'models/x.txt', 1, 416, 416, '["person"]') RETURNING id
     ), c AS (
       INSERT INTO configs (client_id, name, model_id, body) SELECT $1, 'c', m.id, $2::jsonb FROM m RETURNING id, model_id, body
     ), v AS (
       INSERT INTO config_versions (config_id, version, model_id, body) SELECT id, 1, model_id, body FROM c RETURNING config_id
     )
     INSERT INTO runs (client_id, config_id, source_url) SELECT $1, config_id, 'rtsp://cam.local/1' FROM v
     RETURNING id AS run_id, config_id`,
    [clientId, body],
  );
  return { runId: rows[0]!.run_id, configId: rows[0]!.config_id };
}

/** A plausible RuleEvent; `n` makes the id (and frame) unique within the run. */
export function ruleEvent(runId: string, n: number, over: Partial<RuleEvent> = {}): RuleEvent {
  return {
    id: `${runId}:door:${n}:${n}`,
    run_id: runId,
    client_id: 'acme',
    rule_id: 'door',
    type: 'cross',
    track_id: n,
    class: 'person',
    direction: 'in',
    frame_id: 100 + n,
    pts: 4 + n / 25,
    time: new Date(Date.UTC(2025, 0, 1, 12, 0, 0) + n * 40).toISOString(),
    box: [0.1, 0.2, 0.3, 0.4],
    extra: { n },
    ...over,
  };
}
