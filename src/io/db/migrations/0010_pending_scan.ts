/**
 * 0010: the heartbeat's "a claimable run is waiting" check reads runs_pending_idx with a plain index scan.
 *
 * A partial index keeps an entry for every row version that was ever pending until VACUUM removes it:
 * after 10,000 runs are claimed at once it holds 10,000 entries for no pending run. A bitmap scan (what the
 * planner picks for a few expected rows) visits every one of them and the heap page behind it, at each of
 * 60 heartbeats a second at 200 engines (the scale test: 0.55 ms of the heartbeat's 0.75, and the claims'
 * candidate scan the same), until autovacuum comes, a minute or more later. A plain index scan marks the
 * entries of dead rows as it passes (LP_DEAD), and every later scan, bitmap or not, skips them: the first
 * heartbeat after a burst pays the walk once, the next ones read a few index pages. The planner cannot know
 * this, so the function pins the plan: plpgsql keeps its plan per connection, `SET enable_bitmapscan` holds
 * only while it runs.
 */
export const sql = /* sql */ `
CREATE FUNCTION sie_pending_waiting(p_pool text, p_after_s double precision) RETURNS boolean
LANGUAGE plpgsql STABLE SET enable_bitmapscan = off AS $$
BEGIN
  -- The oldest claimable runs only (claims take the oldest first): a plain EXISTS was planned as a scan of
  -- all runs, every row of a fleet with nothing pending.
  RETURN EXISTS (SELECT 1 FROM (SELECT r.updated_at FROM runs r
                                WHERE r.state = 'pending' AND r.stop_requested_at IS NULL AND (r.pool IS NULL OR r.pool = p_pool)
                                ORDER BY r.created_at LIMIT 32) oldest
                 WHERE oldest.updated_at < now() - make_interval(secs => p_after_s));
END $$;
`;
