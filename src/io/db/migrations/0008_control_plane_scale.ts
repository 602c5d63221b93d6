/**
 * 0008: what the control plane needs at 200 engines (issue 18 item 5).
 *
 * - Each transition an engine writes carries the lease epoch it held: "no (run, epoch) ever had two
 *   holders" is then one GROUP BY over the history (the scale test's audit), not an inference from order.
 * - The `sie_runs` nudge names the pool the run asks for ('' = any) instead of the run: PostgreSQL folds
 *   identical notifications of one transaction into one, so 10,000 runs inserted at once wake each engine
 *   once instead of 10,000 times (2,000,000 messages at 200 engines), and an engine ignores other pools'.
 * - run_costs shows each run's engine and state: a claim sums what its engine holds through the view with
 *   the runs_engine_idx, where joining the view back to runs made PostgreSQL cost every run (a seq scan of
 *   runs on each of 200 engines' polls a second; the scale test's top statement).
 * - runs pages keep 30% free: a run's row is rewritten often (counters, flow, state), and an update that
 *   finds room on its page and changes no indexed column is HOT (no new entry in any of runs' 6 indexes).
 */
export const sql = /* sql */ `
ALTER TABLE runs SET (fillfactor = 70);
ALTER TABLE run_transitions ADD COLUMN lease_epoch bigint NULL; -- the writing engine's epoch; NULL: written by no engine (created, reclaimed, API)

CREATE OR REPLACE FUNCTION sie_runs_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO run_transitions (run_id, from_state, to_state, reason) VALUES (NEW.id, NULL, NEW.state, 'created');
  IF NEW.state = 'pending' THEN
    PERFORM pg_notify('sie_runs', COALESCE(NEW.pool, ''));
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE VIEW run_costs AS
  SELECT r.id AS run_id,
         sie_run_cost(COALESCE(r.source_width, 1920), COALESCE(r.source_height, 1080), COALESCE(r.source_fps, 25),
                      COALESCE((c.body -> 'inference' ->> 'every_nth_frame')::integer, 1), m.input_width, m.input_height) AS cost,
         r.engine_id, r.state
  FROM runs r JOIN configs c ON c.id = r.config_id JOIN models m ON m.id = c.model_id;

CREATE OR REPLACE FUNCTION sie_runs_released() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('sie_runs', COALESCE(NEW.pool, ''));
  RETURN NULL;
END $$;
`;
