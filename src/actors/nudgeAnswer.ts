/** How many engines of a pool claim at once when a nudge comes; the rest leave it to them. */
export const NUDGE_ANSWERERS = 3;

/** A `sie_runs` payload (migration 0009): `<pool> <txid>`; an older `<pool>` alone has no token. */
export function parseNudge(payload: string): { pool: string; token: number | null } {
  const space = payload.lastIndexOf(' ');
  if (space < 0) return { pool: payload, token: null };
  const token = Number(payload.slice(space + 1));
  return { pool: payload.slice(0, space), token: Number.isSafeInteger(token) && token >= 0 ? token : null };
}

/**
 * Whether this engine answers a nudge: every listener hears every notification, and at 200 engines all of
 * them claiming for each new run cost PostgreSQL more than everything else together. The transaction id
 * picks the `answerers` engines that follow a starting place in the pool's id order, so each nudge goes to
 * different ones and a full engine is not asked every time. Our place comes from the last heartbeat; it
 * may be stale by an engine or two (one more or one fewer answers), and the heartbeat's pending check
 * catches a run nobody took. Without a place or a token, everyone answers, as before 0009.
 */
export function answersNudge(token: number | null, place: { rank: number; peers: number } | undefined, answerers = NUDGE_ANSWERERS): boolean {
  if (token === null || place === undefined || place.peers <= answerers) return true;
  const start = token % place.peers;
  return (place.rank - start + place.peers) % place.peers < answerers;
}
