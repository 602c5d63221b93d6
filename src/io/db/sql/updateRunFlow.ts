import { q, type Queryable } from '../rows.js';

export interface RunFlowWrite {
  runId: string;
  engineId: string;
  leaseEpoch: string;
  /** null: no reading (before the first frame, or stopping). */
  flow: 'flowing' | 'stalled' | 'blocked' | null;
  /** Where a blocked run loses its frames. */
  stage: string | null;
}

/** The run's flow reading, FENCED like the counters: false when the run is no longer ours. */
export async function updateRunFlow(db: Queryable, a: RunFlowWrite): Promise<boolean> {
  const { rowCount } = await q(
    db,
    `UPDATE runs SET flow = $4, flow_stage = $5, flow_at = now() WHERE id = $1 AND engine_id = $2 AND lease_epoch = $3::bigint`,
    [a.runId, a.engineId, a.leaseEpoch, a.flow, a.stage],
  );
  return rowCount === 1;
}
