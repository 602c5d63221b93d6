import type { Pool } from 'pg';

/** What a heartbeat brings back besides the renewed lease: the backstops of every notification. */
export interface HeartbeatAnswer {
  /** Our runs whose stop was requested and that are not stopping yet (a missed `sie_run_stop`). */
  stopRequested: string[];
  /** Configs of our runs that have a newer version than the one the run executes (a missed `sie_config_changed`);
   *  looked for only when `checkConfigs` is set, else empty. */
  staleConfigs: string[];
  /** Our unfinished runs in the database claimed more than a TTL ago (with their epochs), looked for only with
   *  `checkConfigs`: one we do not run is a claim whose answer never reached us (the connection broke after the
   *  COMMIT) or an end whose write failed, which nothing else would ever hand back. */
  heldRuns: { id: string; leaseEpoch: string }[];
  /** A run our pool can take has been pending longer than `pendingAfterS` (the nudged engines did not take it). */
  pendingWaiting: boolean;
  /** Seconds until the earliest lease of another engine expires; null when there is no other engine. */
  nextOtherExpiryS: number | null;
  /** Our place among the live engines of our pool (ordered by id) and how many they are: who answers a nudge. */
  rank: number;
  peers: number;
}

/**
 * The heartbeat: one row per engine, not per run (per-run leases cost 16% of a core at 10,000 runs, per
 * engine 2% at 200 engines), and one statement that also carries every backstop the poller needs, so an
 * idle fleet costs PostgreSQL one statement per engine per third of a TTL (the scale test: the per-poll
 * stop, config, reclaim and claim statements were 4 of every 5 statements at 200 engines).
 * Null = our row is gone: another engine declared us dead and took our runs, so we must stop them at once
 * without writing anything more.
 *
 * A lease that expired but is still there (a late heartbeat, no reclaim yet) is renewed: our runs are
 * still ours, and reclaimExpiredRuns locks the row, so it either deletes it first (we see no row) or sees
 * it renewed. Reporting it lost instead would stop our runs without releasing them, and with the row
 * registered again nobody would ever reclaim them: they would stay `running` forever.
 */
export async function renewEngineLease(
  pool: Pool,
  a: { engineId: string; leaseTtlS: number; pool: string; pendingAfterS: number; checkConfigs: boolean },
): Promise<HeartbeatAnswer | null> {
  const { rows } = await pool.query<{
    stop_requested: string[];
    stale_configs: string[];
    held_runs: string[];
    pending_waiting: boolean;
    next_other_expiry_s: number | null;
    rank: number;
    peers: number;
  }>({
    name: 'sie-engine-heartbeat',
    text: `WITH renewed AS (
       UPDATE engines SET heartbeat_at = now(), lease_expires_at = now() + make_interval(secs => $2) WHERE id = $1 RETURNING id
     ), mine AS MATERIALIZED (
       -- Our runs first: planned generically, a join starting from a config shared by 10,000 runs read them all.
       SELECT id, config_id, config_version, lease_epoch, claimed_at FROM runs
       WHERE engine_id = $1 AND state NOT IN ('stopping', 'stopped', 'failed', 'completed')
     ), fleet AS (
       SELECT count(*) FILTER (WHERE pool = $3 AND id < $1)::int AS rank,
              count(*) FILTER (WHERE pool = $3)::int AS peers,
              (extract(epoch FROM min(lease_expires_at) FILTER (WHERE id <> $1) - now()))::float8 AS next_other_expiry_s
       FROM engines
     )
     -- Stop requests through runs_stop_requested_idx (migration 0009): nearly always empty, read for free.
     SELECT ARRAY(SELECT id::text FROM runs WHERE engine_id = $1 AND stop_requested_at IS NOT NULL
                    AND state NOT IN ('stopping', 'stopped', 'failed', 'completed')) AS stop_requested,
            -- Reading every run we hold is what this statement costs most: only when asked ($5).
            ARRAY(SELECT DISTINCT m.config_id::text FROM mine m JOIN configs c ON c.id = m.config_id
                  WHERE $5 AND c.version > m.config_version AND c.deleted_at IS NULL) AS stale_configs,
            -- 'id:epoch'; claimed a TTL ago at least, so a claim whose answer is on its way is not among them.
            ARRAY(SELECT m.id::text || ':' || m.lease_epoch FROM mine m
                  WHERE $5 AND m.claimed_at < now() - make_interval(secs => $2)) AS held_runs,
            -- Through runs_pending_idx with a plain index scan, which skips the entries of claimed runs (0010).
            sie_pending_waiting($3, $4) AS pending_waiting,
            fleet.next_other_expiry_s, fleet.rank, fleet.peers
     FROM renewed, fleet`,
    values: [a.engineId, a.leaseTtlS, a.pool, a.pendingAfterS, a.checkConfigs],
  });
  const r = rows[0];
  if (!r) return null;
  return {
    stopRequested: r.stop_requested,
    staleConfigs: r.stale_configs,
    heldRuns: r.held_runs.map((h) => {
      const [id, leaseEpoch] = h.split(':') as [string, string];
      return { id, leaseEpoch };
    }),
    pendingWaiting: r.pending_waiting,
    nextOtherExpiryS: r.next_other_expiry_s,
    rank: r.rank,
    peers: r.peers,
  };
}
