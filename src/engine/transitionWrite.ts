import type { Pool } from 'pg';
import { recordRunTransition, type RunTransitionWrite } from '../io/db/sql/recordRunTransition.js';
import { coerceError } from '../errors.js';
import type { Logger } from '../log.js';

/**
 * One run transition, written even across a database outage (a restart, a failover) or a queue longer
 * than the pool's wait: retried, doubling from 200 ms to 2 s, until it is written (true) or fenced out
 * (false), or `stillWanted` says the run no longer writes (released or abandoned meanwhile; that path
 * writes its own outcome): undefined. Errors in the statement itself (SQLSTATE classes 22, 23, 42) cannot
 * be cured by waiting: thrown.
 */
export async function writeTransitionRetrying(pool: Pool, t: RunTransitionWrite, stillWanted: () => boolean, log: Logger): Promise<boolean | undefined> {
  let delayMs = 200;
  let failures = 0;
  for (;;) {
    try {
      const ok = await recordRunTransition(pool, t);
      if (failures > 0) log.info({ state: t.to, failures }, 'run transition written after the database came back');
      return ok;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && /^(22|23|42)[0-9A-Z]{3}$/.test(code)) throw err;
      if (failures++ === 0) log.warn({ err: coerceError(err).message, state: t.to }, 'could not persist run transition; retrying until the database answers');
      await new Promise((r) => setTimeout(r, delayMs));
      delayMs = Math.min(2000, delayMs * 2);
      if (!stillWanted()) return undefined;
    }
  }
}
