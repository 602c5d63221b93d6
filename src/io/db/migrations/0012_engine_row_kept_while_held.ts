/**
 * 0012: an engine's row cannot be deleted while a run that is not finished still names it (runs.engine_id
 * loses ON DELETE SET NULL). With SET NULL, two deletes could orphan a run: nobody would ever take it,
 * since reclaimExpiredRuns starts from the engines table.
 *
 * - A claim racing a reclaim: engine A claims a run just before its lease expires (the claim's foreign-key
 *   check locks A's row, KEY SHARE); B's reclaim, started after the expiry, waits on that lock to delete
 *   A's row, reads A's runs in its own snapshot, taken before A committed (the run still pending: nothing to
 *   move), deletes the row, and SET NULL then cleared the engine of the run A had just claimed: `starting`,
 *   no engine, for good. Now that reclaim fails (23503) and the next one, a heartbeat later, moves the run.
 * - A drain whose release of a run failed (its connection timed out) and whose unregister then succeeded:
 *   the run stayed `running` with no engine. Now the unregister fails, the row's lease runs out, and
 *   another engine reclaims the run.
 * Finished runs name no engine (their last transition clears it), so a row with only those goes freely.
 * NOT VALID: the rows there are valid already (SET NULL kept them so), and validating would scan every
 * run while this migration's locks on runs and engines hold up every heartbeat and claim of the fleet. The
 * key is enforced for every write and delete from now on all the same.
 */
export const sql = /* sql */ `
ALTER TABLE runs DROP CONSTRAINT runs_engine_id_fkey;
ALTER TABLE runs ADD CONSTRAINT runs_engine_id_fkey FOREIGN KEY (engine_id) REFERENCES engines(id) NOT VALID;
`;
