import { qNamed, type Queryable } from '../rows.js';

export interface RunCountersWrite {
  runId: string;
  leaseEpoch: string;
  /** The counters as JSON text (the batch keeps them serialised: it compares them to what it wrote). */
  countersJson: string;
}

/**
 * Runs' current counters (each replaced whole), one statement for all of an engine's runs, each FENCED
 * like every write of the owning engine. Returns the runs written; one missing is no longer ours (another
 * engine claimed it, or it ended and engine_id was cleared).
 */
export async function updateRunCounters(db: Queryable, engineId: string, writes: readonly RunCountersWrite[]): Promise<Set<string>> {
  if (writes.length === 0) return new Set();
  const { rows } = await qNamed<{ id: string }>(
    db,
    'sie-update-runs-counters',
    `UPDATE runs r SET counters = v.counters, counters_at = now()
     FROM unnest($2::uuid[], $3::bigint[], $4::jsonb[]) AS v(id, epoch, counters)
     WHERE r.id = v.id AND r.engine_id = $1 AND r.lease_epoch = v.epoch
     RETURNING r.id::text AS id`,
    [engineId, writes.map((w) => w.runId), writes.map((w) => w.leaseEpoch), writes.map((w) => w.countersJson)],
  );
  return new Set(rows.map((r) => r.id));
}
