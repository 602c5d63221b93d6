/**
 * 0001: models, configs (+ versions), engines, runs, run_transitions, and the triggers that record a run's
 * creation and nudge engines. Kept as a TS string module (not a .sql file) because tsc copies only .ts to
 * dist/. Never edit a migration that has shipped: add 0002_….ts instead.
 */
export const sql = /* sql */ `
-- Uploaded detection models. The files live under SIE_DATA_DIR, named by the sha256 of the weights, so
-- the same bytes are stored once; a deleted model keeps its row (old config versions point at it).
CREATE TABLE models (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL,
  format      text NOT NULL CHECK (format IN ('yolox')),
  sha256      text NOT NULL UNIQUE,
  file_path   text NOT NULL,   -- relative to SIE_DATA_DIR, e.g. models/<sha256>.onnx
  labels_path text NOT NULL,   -- relative to SIE_DATA_DIR, e.g. models/<sha256>.labels.txt
  size_bytes  bigint NOT NULL CHECK (size_bytes > 0),
  input_width  int NOT NULL CHECK (input_width > 0),
  input_height int NOT NULL CHECK (input_height > 0),
  labels      jsonb NOT NULL CHECK (jsonb_typeof(labels) = 'array'),  -- class names in output order
  created_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz NULL
);

-- A client's config: the current version is copied into configs.body/model_id for cheap reads; every
-- version (the first included) is kept in config_versions, which is what a run executes.
CREATE TABLE configs (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  client_id  text NOT NULL,
  name       text NOT NULL,
  version    int NOT NULL DEFAULT 1 CHECK (version >= 1),  -- the current version
  model_id   uuid NOT NULL REFERENCES models(id),
  body       jsonb NOT NULL,  -- the current ConfigBody: {inference, rules, drawing}
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz NULL
);
CREATE INDEX configs_client_idx ON configs (client_id) WHERE deleted_at IS NULL;

CREATE TABLE config_versions (
  config_id  uuid NOT NULL REFERENCES configs(id) ON DELETE CASCADE,
  version    int NOT NULL,
  model_id   uuid NOT NULL REFERENCES models(id),
  body       jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (config_id, version)
);

-- One row per live engine process: one lease for all its runs (a lease per run costs 8x more CPU at
-- scale). An engine whose lease_expires_at passed is dead; its runs go back to pending.
CREATE TABLE engines (
  id               text PRIMARY KEY,
  hostname         text NOT NULL,
  advertise_host   text NOT NULL,
  rtsp_port        int NOT NULL CHECK (rtsp_port BETWEEN 0 AND 65535),
  max_runs         int NOT NULL CHECK (max_runs >= 0),
  started_at       timestamptz NOT NULL DEFAULT now(),
  heartbeat_at     timestamptz NOT NULL DEFAULT now(),
  lease_expires_at timestamptz NOT NULL
);

-- THE CONTRACT. A run is a job: anyone may create one with plain SQL, without the API:
--
--   INSERT INTO runs (client_id, config_id, source_url) VALUES ('acme', '<config uuid>', 'rtsp://cam/1');
--
-- Every other column has a default. The insert trigger below records the 'created' transition and
-- NOTIFYs sie_runs; an engine claims the run (state pending → starting, engine_id, lease_epoch + 1) and
-- every later write of that engine is fenced by (engine_id, lease_epoch). To stop a run, set
-- stop_requested_at = now(): the update trigger NOTIFYs sie_run_stop. Terminal states: stopped, failed,
-- completed (a file:// source that reached its end).
CREATE TABLE runs (
  id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  client_id               text NOT NULL,
  config_id               uuid NOT NULL REFERENCES configs(id),
  config_version          int NULL,     -- NULL = the config's current version when the run is claimed
  source_url              text NOT NULL,  -- rtsp://, rtsps:// (credentials allowed) or file:///abs/path
  output_mount            text NULL,    -- NULL = the run id
  retry_max_attempts      int NOT NULL DEFAULT 5 CHECK (retry_max_attempts >= 0),
  retry_backoff_initial_s double precision NOT NULL DEFAULT 1 CHECK (retry_backoff_initial_s > 0),
  retry_backoff_max_s     double precision NOT NULL DEFAULT 30 CHECK (retry_backoff_max_s > 0),
  connect_timeout_s       double precision NOT NULL DEFAULT 10 CHECK (connect_timeout_s > 0),
  state                   text NOT NULL DEFAULT 'pending' CHECK (state IN
                            ('pending','starting','connecting','running','retrying','stopping','stopped','failed','completed')),
  stop_requested_at       timestamptz NULL,
  attempts                int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  error_kind              text NULL,
  error_message           text NULL,
  engine_id               text NULL REFERENCES engines(id) ON DELETE SET NULL,
  lease_epoch             bigint NOT NULL DEFAULT 0,  -- rises at every claim; fences the owner's writes
  output_url              text NULL,
  created_at              timestamptz NOT NULL DEFAULT now(),
  claimed_at              timestamptz NULL,
  started_at              timestamptz NULL,  -- the first time the run reached running
  ended_at                timestamptz NULL,
  updated_at              timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT runs_backoff_order CHECK (retry_backoff_initial_s <= retry_backoff_max_s),
  CONSTRAINT runs_mount_format CHECK (output_mount IS NULL OR output_mount ~ '^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$')
);
-- Engines claim the oldest pending runs: this index stays as small as the queue.
CREATE INDEX runs_pending_idx ON runs (created_at) WHERE state = 'pending';
CREATE INDEX runs_engine_idx ON runs (engine_id) WHERE engine_id IS NOT NULL;
CREATE INDEX runs_config_idx ON runs (config_id);
CREATE INDEX runs_client_idx ON runs (client_id, created_at);
-- Two unfinished runs cannot publish on the same mount (a unique index, so concurrent inserts race safely).
CREATE UNIQUE INDEX runs_live_mount_idx ON runs ((COALESCE(output_mount, id::text)))
  WHERE state NOT IN ('stopped', 'failed', 'completed');

-- Every state change of a run, in order (id), for GET /v1/runs/{id}/transitions and post-mortems.
CREATE TABLE run_transitions (
  id            bigserial PRIMARY KEY,
  run_id        uuid NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  from_state    text NULL,
  to_state      text NOT NULL,
  reason        text NULL,
  error_kind    text NULL,
  error_message text NULL,
  engine_id     text NULL,  -- no FK: the history outlives the engine row
  at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX run_transitions_run_idx ON run_transitions (run_id, id);

-- A run created by any means gets its first transition, and wakes the engines when it is claimable.
-- NOTIFY is only a nudge: engines poll too, so a lost notification delays a run by one poll at most.
CREATE FUNCTION sie_runs_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO run_transitions (run_id, from_state, to_state, reason) VALUES (NEW.id, NULL, NEW.state, 'created');
  IF NEW.state = 'pending' THEN
    PERFORM pg_notify('sie_runs', NEW.id::text);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER runs_after_insert AFTER INSERT ON runs FOR EACH ROW EXECUTE FUNCTION sie_runs_after_insert();

-- A run handed back (engine shutdown or lease expiry) is claimable again: nudge the engines.
CREATE FUNCTION sie_runs_released() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('sie_runs', NEW.id::text);
  RETURN NULL;
END $$;
CREATE TRIGGER runs_after_release AFTER UPDATE OF state ON runs FOR EACH ROW
  WHEN (NEW.state = 'pending' AND OLD.state IS DISTINCT FROM 'pending')
  EXECUTE FUNCTION sie_runs_released();

-- A stop request tells the owning engine at once (it also polls stop_requested_at as the backstop).
CREATE FUNCTION sie_runs_stop_requested() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('sie_run_stop', NEW.id::text);
  RETURN NULL;
END $$;
CREATE TRIGGER runs_after_stop_request AFTER UPDATE OF stop_requested_at ON runs FOR EACH ROW
  WHEN (NEW.stop_requested_at IS NOT NULL AND OLD.stop_requested_at IS NULL)
  EXECUTE FUNCTION sie_runs_stop_requested();

-- A new config version is applied by the engines running that config (payload: the config id).
CREATE FUNCTION sie_config_version_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('sie_config_changed', NEW.config_id::text);
  RETURN NULL;
END $$;
CREATE TRIGGER config_versions_after_insert AFTER INSERT ON config_versions FOR EACH ROW
  EXECUTE FUNCTION sie_config_version_added();
`;
