import type { Pool } from 'pg';

/**
 * The heartbeat: one row per engine, not per run (per-run leases cost 16% of a core at 10,000 runs, per
 * engine 2% at 200 engines). False = our row is gone: another engine declared us dead and took our runs,
 * so we must stop them at once without writing anything more.
 */
export async function renewEngineLease(pool: Pool, engineId: string, leaseTtlS: number): Promise<boolean> {
  const r = await pool.query(
    `UPDATE engines SET heartbeat_at = now(), lease_expires_at = now() + make_interval(secs => $2)
     WHERE id = $1 AND lease_expires_at > now()`,
    [engineId, leaseTtlS],
  );
  return r.rowCount === 1;
}
