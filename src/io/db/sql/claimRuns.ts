import type { Pool } from 'pg';

/** A claimed run with everything the engine needs to start it (config version and model resolved). */
export interface ClaimedRun {
  id: string;
  client_id: string;
  config_id: string;
  config_version: number;
  source_url: string;
  output_mount: string;
  output_url: string;
  retry_max_attempts: number;
  retry_backoff_initial_s: number;
  retry_backoff_max_s: number;
  connect_timeout_s: number;
  lease_epoch: string;
  body: unknown;
  model_id: string;
  model_format: string;
  model_file_path: string;
  model_labels: string[];
}

/**
 * The most runs one claim looks at. The candidates are locked while the claim runs: an engine locking a
 * thousand to take the sixty that fit would hide the rest from every other engine (SKIP LOCKED), and a
 * burst of runs would be taken two engines at a time. The poller claims again while claims take runs.
 */
export const CLAIM_BATCH = 32;

/**
 * Claims pending runs that fit, in one statement. SKIP LOCKED lets many engines claim at once without
 * waiting on each other (10,000 runs by 64 clients took ~1.4 s here). The lease epoch rises at every claim
 * and fences every later write of this engine (see recordRunTransition). The transition row is written in
 * the same statement so a claim is never half-recorded.
 *
 * What fits: at most `maxRuns` runs, of this engine's pool (or asking for none), oldest first, as long as
 * their summed cost (run_costs, migration 0007) stays within `capacityUnits` minus what the engine holds.
 * It takes the oldest runs that fit and stops at the first that does not: a large run at the head is never
 * overtaken by younger small ones (it would starve behind them), it waits for an engine with room. An
 * engine holding nothing takes the oldest run even when it costs more than the whole capacity (else a run
 * too large for any engine would wait forever).
 *
 * Only with a live lease: an engine paused past its TTL (SIGSTOP, a long GC pause, a frozen VM) wakes with
 * its engine row deleted by whoever reclaimed its runs; a claim before its heartbeat notices would take runs
 * under an engine id nobody renews and nobody reclaims (reclaimExpiredRuns starts from the engines table),
 * and the abandon that follows the lost lease would leave them `starting` forever.
 */
export async function claimRuns(
  pool: Pool,
  a: { engineId: string; maxRuns: number; capacityUnits: number; pool: string; advertiseHost: string; rtspPort: number },
): Promise<ClaimedRun[]> {
  if (a.maxRuns <= 0) return [];
  const { rows } = await pool.query<ClaimedRun>({
    // Named: planned once per connection (planning this statement cost more than running it).
    name: 'sie-claim-runs',
    text: `WITH alive AS (
       SELECT 1 FROM engines WHERE id = $1 AND lease_expires_at > now()
     ), candidates AS (
       SELECT r.id, r.created_at FROM runs r
       WHERE EXISTS (SELECT 1 FROM alive)
         AND r.state = 'pending' AND r.stop_requested_at IS NULL AND (r.pool IS NULL OR r.pool = $6)
       ORDER BY r.created_at, r.id
       LIMIT $2
       FOR UPDATE SKIP LOCKED
     ), held AS (
       -- Summed only when there is something to claim: most polls of a busy fleet find nothing pending.
       SELECT count(*) AS n, COALESCE(sum(cost), 0) AS used FROM run_costs
       WHERE engine_id = $1 AND state IN ('starting', 'connecting', 'running', 'retrying', 'stopping') AND EXISTS (SELECT 1 FROM candidates)
     ), costed AS (
       -- A subquery per candidate (by primary key): a join with the view would cost every run.
       SELECT c.id, c.created_at, (SELECT rc.cost FROM run_costs rc WHERE rc.run_id = c.id) AS cost FROM candidates c
     ), ranked AS (
       SELECT id, sum(cost) OVER w AS cum, row_number() OVER w AS k FROM costed WINDOW w AS (ORDER BY created_at, id)
     ), picked AS (
       SELECT ranked.id FROM ranked, held
       WHERE ranked.cum <= $5 - held.used OR (ranked.k = 1 AND held.n = 0)
     ), claimed AS (
       UPDATE runs r
       SET state = 'starting', engine_id = $1, lease_epoch = r.lease_epoch + 1, claimed_at = now(), updated_at = now(),
           config_version = COALESCE(r.config_version, c.version),
           -- An IPv6 address is bracketed in a URL (the 302's Location): rtsp://[fd00::5]:8554/mount.
           output_url = 'rtsp://' || CASE WHEN strpos($3, ':') > 0 AND left($3, 1) <> '[' THEN '[' || $3 || ']' ELSE $3 END || ':' || $4::int || '/' || COALESCE(r.output_mount, r.id::text),
           error_kind = NULL, error_message = NULL
       FROM picked, configs c
       WHERE r.id = picked.id AND c.id = r.config_id
       RETURNING r.*
     ), transition AS (
       INSERT INTO run_transitions (run_id, from_state, to_state, reason, engine_id, lease_epoch)
       SELECT id, 'pending', 'starting', 'claimed', $1, lease_epoch FROM claimed
     )
     SELECT cl.id, cl.client_id, cl.config_id, cl.config_version, cl.source_url,
            COALESCE(cl.output_mount, cl.id::text) AS output_mount, cl.output_url,
            cl.retry_max_attempts, cl.retry_backoff_initial_s, cl.retry_backoff_max_s, cl.connect_timeout_s,
            cl.lease_epoch::text AS lease_epoch,
            cv.body, cv.model_id, m.format AS model_format, m.file_path AS model_file_path, m.labels AS model_labels
     FROM claimed cl
     JOIN config_versions cv ON cv.config_id = cl.config_id AND cv.version = cl.config_version
     JOIN models m ON m.id = cv.model_id`,
    values: [a.engineId, Math.min(a.maxRuns, CLAIM_BATCH), a.advertiseHost, a.rtspPort, a.capacityUnits, a.pool],
  });
  return rows;
}
