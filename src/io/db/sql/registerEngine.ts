import type { Pool } from 'pg';

/** Inserts (or refreshes) this engine's row: the one lease that covers all its runs. */
export async function registerEngine(
  pool: Pool,
  e: { id: string; hostname: string; advertiseHost: string; rtspPort: number; maxRuns: number; capacityUnits: number; pool: string; leaseTtlS: number },
): Promise<void> {
  await pool.query(
    `INSERT INTO engines (id, hostname, advertise_host, rtsp_port, max_runs, capacity_units, pool, lease_expires_at)
     VALUES ($1, $2, $3, $4, $5, $7, $8, now() + make_interval(secs => $6))
     ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), lease_expires_at = EXCLUDED.lease_expires_at,
       advertise_host = EXCLUDED.advertise_host, rtsp_port = EXCLUDED.rtsp_port, max_runs = EXCLUDED.max_runs,
       capacity_units = EXCLUDED.capacity_units, pool = EXCLUDED.pool`,
    [e.id, e.hostname, e.advertiseHost, e.rtspPort, e.maxRuns, e.leaseTtlS, e.capacityUnits, e.pool],
  );
}

/** Removes the engine row once its runs are released (clean shutdown). */
export async function unregisterEngine(pool: Pool, engineId: string): Promise<void> {
  await pool.query(`DELETE FROM engines WHERE id = $1`, [engineId]);
}
