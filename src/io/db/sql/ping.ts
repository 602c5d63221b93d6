import { q, type Queryable } from '../rows.js';

/** The readiness probe: one round trip proves a connection can be had and the server answers. */
export async function ping(db: Queryable): Promise<void> {
  await q(db, `SELECT 1`);
}
