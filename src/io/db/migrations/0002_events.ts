/**
 * 0002: the events outbox and the runs' live counters. Rules' events are written here first (the engine's
 * event store), then every sink reads them back from this table: a sink that is down loses nothing, and
 * the API's event list and SSE stream work whichever process runs the engine.
 */
export const sql = /* sql */ `
CREATE TABLE events (
  seq        bigserial PRIMARY KEY,     -- the order of arrival; SSE ids and ?since= cursors
  id         text NOT NULL UNIQUE,      -- RuleEvent.id, deterministic: the idempotency key of every sink
  run_id     uuid NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  client_id  text NOT NULL,
  rule_id    text NOT NULL,
  type       text NOT NULL,
  track_id   int NULL,
  class      text NULL,
  direction  text NULL,
  frame_id   bigint NOT NULL,
  pts        double precision NOT NULL,
  time       timestamptz NOT NULL,
  box        jsonb NULL,
  extra      jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Webhook outbox. webhook_next_at is when the next attempt is due: now() for a new event, pushed out by
  -- a claim (a lease, so two engines never send the same event at once) and by the backoff after a
  -- failure; NULL once there is nothing left to do (delivered, or the run has no webhook).
  webhook_delivered_at timestamptz NULL,
  webhook_attempts     int NOT NULL DEFAULT 0,
  webhook_next_at      timestamptz NULL DEFAULT now(),
  mqtt_delivered_at    timestamptz NULL
);
-- GET /v1/runs/{id}/events and the SSE stream page by (run_id, seq).
CREATE INDEX events_run_seq_idx ON events (run_id, seq);
-- The deliverers' scans stay as small as their backlogs: only rows still to be sent are indexed.
CREATE INDEX events_webhook_due_idx ON events (webhook_next_at, seq)
  WHERE webhook_delivered_at IS NULL AND webhook_next_at IS NOT NULL;
CREATE INDEX events_mqtt_pending_idx ON events (seq) WHERE mqtt_delivered_at IS NULL;
-- Retention deletes the oldest rows first.
CREATE INDEX events_created_idx ON events (created_at);

-- The engine writes a run's current counters (occupancy, line counts, …) about once a second, fenced by
-- (engine_id, lease_epoch) like its other writes; GET /v1/runs/{id} shows them.
ALTER TABLE runs ADD COLUMN counters jsonb NULL, ADD COLUMN counters_at timestamptz NULL;
`;
