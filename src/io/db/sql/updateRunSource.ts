import { q, type Queryable } from '../rows.js';

/**
 * The source's size and rate as the engine that opened it measured them: the run's cost (run_costs,
 * migration 0007) is then exact for every later claim (after a failover, a drain), instead of the
 * inserter's hint or the 1080p25 default. Fenced like every write of the owning engine.
 */
export async function updateRunSource(
  db: Queryable,
  a: { runId: string; engineId: string; leaseEpoch: string; width: number; height: number; fps: number },
): Promise<boolean> {
  const { rowCount } = await q(
    db,
    `UPDATE runs SET source_width = $4, source_height = $5, source_fps = $6
     WHERE id = $1 AND engine_id = $2 AND lease_epoch = $3::bigint`,
    [a.runId, a.engineId, a.leaseEpoch, a.width, a.height, a.fps],
  );
  return rowCount === 1;
}
