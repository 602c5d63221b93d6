/**
 * 0009: the `sie_runs` nudge says which transaction made runs claimable: `<pool> <txid>` ('' pool = any).
 *
 * Every listener wakes for every notification, and at 200 engines each nudge had all of them claim at
 * once (up to 2,000 claims a second for 10 new runs a second, nearly all finding nothing). Now a few
 * engines answer each nudge, chosen from the transaction id by their place in the pool (src/actors/
 * nudgeAnswer.ts), a different few each time; the heartbeat's pending check is the backstop when they
 * cannot take the run. Still folded to one notification per pool and transaction.
 *
 * The heartbeat looks for its runs' stop requests at every beat (the backstop of `sie_run_stop`): through
 * a partial index of the requests not yet acted on, almost always empty, instead of every run it holds.
 */
export const sql = /* sql */ `
CREATE INDEX runs_stop_requested_idx ON runs (engine_id)
  WHERE stop_requested_at IS NOT NULL AND state NOT IN ('stopping', 'stopped', 'failed', 'completed');

CREATE OR REPLACE FUNCTION sie_runs_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO run_transitions (run_id, from_state, to_state, reason) VALUES (NEW.id, NULL, NEW.state, 'created');
  IF NEW.state = 'pending' THEN
    PERFORM pg_notify('sie_runs', COALESCE(NEW.pool, '') || ' ' || txid_current());
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION sie_runs_released() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('sie_runs', COALESCE(NEW.pool, '') || ' ' || txid_current());
  RETURN NULL;
END $$;
`;
