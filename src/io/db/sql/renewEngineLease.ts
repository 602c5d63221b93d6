import type { Pool } from 'pg';

/**
 * The heartbeat: one row per engine, not per run (per-run leases cost 16% of a core at 10,000 runs, per
 * engine 2% at 200 engines). False = our row is gone: another engine declared us dead and took our runs,
 * so we must stop them at once without writing anything more.
 *
 * A lease that expired but is still there (a late heartbeat, no reclaim yet) is renewed: our runs are
 * still ours, and reclaimExpiredRuns locks the row, so it either deletes it first (we see 0 rows) or sees
 * it renewed. Reporting it lost instead would stop our runs without releasing them, and with the row
 * registered again nobody would ever reclaim them: they would stay `running` forever.
 */
export async function renewEngineLease(pool: Pool, engineId: string, leaseTtlS: number): Promise<boolean> {
  const r = await pool.query({
    name: 'sie-renew-engine-lease',
    text: `UPDATE engines SET heartbeat_at = now(), lease_expires_at = now() + make_interval(secs => $2) WHERE id = $1`,
    values: [engineId, leaseTtlS],
  });
  return r.rowCount === 1;
}
