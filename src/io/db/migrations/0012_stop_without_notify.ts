/**
 * 0012: a stop request no longer NOTIFYs `sie_run_stop`. PostgreSQL before 19 wakes every backend that
 * LISTENs in the database for each notification, whatever its channel: at 200 engines one stop cost the
 * server 6 ms of CPU (measured: the sender signals 200 backends, each wakes, reads the queue and sends),
 * and the scale test's 10 stops a second were a sixth of its steady CPU, for a message meant for one
 * engine. The owning engine reads its runs' stop requests in the statement that writes their counters
 * every second (src/io/db/sql/updateRunCounters.ts, runsTick), so a stop takes effect within a second; the
 * heartbeat still reads them too. An engine of an earlier version, which waited for the notification,
 * finds the request at its next heartbeat (a third of its lease TTL).
 */
export const sql = /* sql */ `
DROP TRIGGER runs_after_stop_request ON runs;
DROP FUNCTION sie_runs_stop_requested();
`;
