/**
 * 0007: capacity-aware claims (issue 18 item 2). A run costs CPU milliseconds per second of video (1000 =
 * one core busy), from its resolution, frame rate, every_nth_frame and model (sie_run_cost below; the
 * constants and how they were measured with `sie bench` are in the README, "Capacity"). Engines advertise
 * a capacity in the same units and a pool (cpu, gpu…); a run may ask for a pool. The source's size and
 * rate are the inserter's hint until the engine that opened the source writes what it measured.
 */
export const sql = /* sql */ `
CREATE FUNCTION sie_run_cost(width integer, height integer, fps double precision, every_nth integer, model_width integer, model_height integer)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  -- Per source frame: 8 ms per megapixel (decode, letterbox, tracking, drawing, encode, the pipes), and on
  -- each detected frame the model: 20 ms for a 416 x 416 input (YOLOX-nano), in proportion to its pixels.
  SELECT ceil(least(greatest(fps, 1), 240)
              * (8.0 * width * height / 1e6
                 + 20.0 * model_width * model_height / 173056.0 / greatest(every_nth, 1)))::integer
$$;

ALTER TABLE runs
  ADD COLUMN pool text NULL CHECK (pool IS NULL OR pool ~ '^[a-z0-9][a-z0-9-]{0,31}$'),
  ADD COLUMN source_width integer NULL CHECK (source_width BETWEEN 16 AND 16384),
  ADD COLUMN source_height integer NULL CHECK (source_height BETWEEN 16 AND 16384),
  ADD COLUMN source_fps double precision NULL CHECK (source_fps > 0 AND source_fps <= 240);

ALTER TABLE engines
  ADD COLUMN capacity_units integer NOT NULL DEFAULT 1600 CHECK (capacity_units > 0),
  ADD COLUMN pool text NOT NULL DEFAULT 'cpu' CHECK (pool ~ '^[a-z0-9][a-z0-9-]{0,31}$');

-- A run's cost now: its source as measured (or hinted; 1080p at 25 fps when nothing is known) and its
-- config's current every_nth_frame and model.
CREATE VIEW run_costs AS
  SELECT r.id AS run_id,
         sie_run_cost(COALESCE(r.source_width, 1920), COALESCE(r.source_height, 1080), COALESCE(r.source_fps, 25),
                      COALESCE((c.body -> 'inference' ->> 'every_nth_frame')::integer, 1), m.input_width, m.input_height) AS cost
  FROM runs r JOIN configs c ON c.id = r.config_id JOIN models m ON m.id = c.model_id;
`;
