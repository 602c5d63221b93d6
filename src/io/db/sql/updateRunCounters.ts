import { qNamed, type Queryable } from '../rows.js';

export interface RunCountersWrite {
  runId: string;
  engineId: string;
  leaseEpoch: string;
  counters: Record<string, unknown>;
}

/**
 * The run's current counters (replaced whole), FENCED like every write of the owning engine: false when
 * the run is no longer ours (another engine claimed it, or it ended and engine_id was cleared).
 */
export async function updateRunCounters(db: Queryable, a: RunCountersWrite): Promise<boolean> {
  const { rowCount } = await qNamed(
    db,
    'sie-update-run-counters',
    `UPDATE runs SET counters = $4::jsonb, counters_at = now() WHERE id = $1 AND engine_id = $2 AND lease_epoch = $3::bigint`,
    [a.runId, a.engineId, a.leaseEpoch, JSON.stringify(a.counters)],
  );
  return rowCount === 1;
}
