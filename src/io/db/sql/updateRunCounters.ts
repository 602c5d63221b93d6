import { qNamed, type Queryable } from '../rows.js';

export interface RunCountersWrite {
  runId: string;
  leaseEpoch: string;
  /** The counters as JSON text (the batch keeps them serialised: it compares them to what it wrote). */
  countersJson: string;
}

/** What one tick of an engine's runs brings back. */
export interface RunsTickAnswer {
  /** The runs whose counters were written; one missing is no longer ours (another engine claimed it, or it
   *  ended and engine_id was cleared). */
  written: Set<string>;
  /** Our runs whose stop was requested and that are not stopping yet. */
  stopRequested: string[];
}

/**
 * One statement a second for all of an engine's runs: their current counters (each replaced whole, FENCED
 * like every write of the owning engine), and the stop requests of the runs it holds. Stop requests come
 * here rather than by NOTIFY: PostgreSQL before 19 wakes every listening backend of the database for each
 * notification, whatever its channel (6 ms of its CPU a notification at 200 engines, measured), and a
 * stop concerns one engine; this read goes through runs_stop_requested_idx (migration 0009), nearly always
 * empty. With no counters to write it is that read alone.
 */
export async function runsTick(db: Queryable, engineId: string, writes: readonly RunCountersWrite[]): Promise<RunsTickAnswer> {
  const { rows } = await qNamed<{ written: string[]; stop_requested: string[] }>(
    db,
    'sie-runs-tick',
    `WITH written AS (
       UPDATE runs r SET counters = v.counters, counters_at = now()
       FROM unnest($2::uuid[], $3::bigint[], $4::jsonb[]) AS v(id, epoch, counters)
       WHERE r.id = v.id AND r.engine_id = $1 AND r.lease_epoch = v.epoch
       RETURNING r.id::text AS id
     )
     SELECT ARRAY(SELECT id FROM written) AS written,
            ARRAY(SELECT id::text FROM runs WHERE engine_id = $1 AND stop_requested_at IS NOT NULL
                    AND state NOT IN ('stopping', 'stopped', 'failed', 'completed')) AS stop_requested`,
    [engineId, writes.map((w) => w.runId), writes.map((w) => w.leaseEpoch), writes.map((w) => w.countersJson)],
  );
  const r = rows[0]!;
  return { written: new Set(r.written), stopRequested: r.stop_requested };
}

/** Runs' counters alone (runsTick's write): the runs written. */
export async function updateRunCounters(db: Queryable, engineId: string, writes: readonly RunCountersWrite[]): Promise<Set<string>> {
  if (writes.length === 0) return new Set();
  return (await runsTick(db, engineId, writes)).written;
}
