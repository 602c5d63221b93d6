/**
 * Scoring the engine's events against a hand-verified truth, for one rule of one clip.
 *
 * Matching is one-to-one: a truth event is found by at most one engine event and the other way round, so a
 * double count on the line is one match and one false alarm, never two matches. Among the one-to-one
 * matchings it takes one with the most matches (augmenting paths, Kuhn), so that the figures do not depend
 * on which of two close events is looked at first; among equal candidates the nearest in frames wins, then
 * the earlier one, so a tie always resolves the same way. Crossings match only in the same direction: a
 * crossing counted the wrong way is a miss AND a false alarm.
 *
 * Frames, not seconds: the truth is written by looking at frames, and the engine's events carry the frame.
 */

export type Direction = 'in' | 'out';

/** One crossing of a counting line: the frame at which the anchor passes the line, and the way it goes. */
export interface Crossing {
  frame: number;
  direction: Direction;
}

/** One stay of an object in a zone: the first frame inside and the last frame inside. */
export interface Visit {
  enter: number;
  leave: number;
}

export interface ScoreOptions {
  /** How many frames an engine event may be from the truth's, either way (default DEFAULT_TOLERANCE_FRAMES). */
  toleranceFrames?: number;
}

/** ±1 s at the clips' 10 fps: a person takes about that long to walk through the hysteresis band. */
export const DEFAULT_TOLERANCE_FRAMES = 10;

export interface Score {
  truth: number;
  engine: number;
  matched: number;
  missed: number;
  falseAlarms: number;
  /** matched / truth; 1 when there is no truth (nothing to find, nothing missed). */
  recall: number;
  /** matched / engine; 1 when the engine said nothing (no false alarm). */
  precision: number;
  /** [truth index, engine index] of each match, in the order of the inputs given. */
  pairs: Array<[number, number]>;
  /** Indices of the truth events nobody found, and of the engine events that match no truth. */
  missedIndices: number[];
  falseAlarmIndices: number[];
}

/**
 * Maximum one-to-one matching between `truth` and `engine`: `cost(t, e)` is undefined when they cannot match,
 * else how far apart they are (lower is tried first).
 */
export function matchOneToOne<T, E>(truth: readonly T[], engine: readonly E[], cost: (t: T, e: E) => number | undefined): Score {
  const candidates = truth.map((t) =>
    engine
      .map((e, j) => ({ j, c: cost(t, e) }))
      .filter((x): x is { j: number; c: number } => x.c !== undefined)
      .sort((a, b) => a.c - b.c || a.j - b.j)
      .map((x) => x.j),
  );
  /** ownerOf[j] = the truth index engine event j is matched to, or -1. */
  const ownerOf = new Array<number>(engine.length).fill(-1);
  const tryAssign = (i: number, seen: boolean[]): boolean => {
    for (const j of candidates[i]!) {
      if (seen[j]) continue;
      seen[j] = true;
      if (ownerOf[j] === -1 || tryAssign(ownerOf[j]!, seen)) {
        ownerOf[j] = i;
        return true;
      }
    }
    return false;
  };
  for (let i = 0; i < truth.length; i++) tryAssign(i, new Array<boolean>(engine.length).fill(false));
  const pairs: Array<[number, number]> = [];
  ownerOf.forEach((i, j) => {
    if (i >= 0) pairs.push([i, j]);
  });
  pairs.sort((a, b) => a[0] - b[0]);
  const matchedTruth = new Set(pairs.map((p) => p[0]));
  const matched = pairs.length;
  return {
    truth: truth.length,
    engine: engine.length,
    matched,
    missed: truth.length - matched,
    falseAlarms: engine.length - matched,
    recall: truth.length === 0 ? 1 : matched / truth.length,
    precision: engine.length === 0 ? 1 : matched / engine.length,
    pairs,
    missedIndices: truth.map((_, i) => i).filter((i) => !matchedTruth.has(i)),
    falseAlarmIndices: ownerOf.map((i, j) => (i === -1 ? j : -1)).filter((j) => j >= 0),
  };
}

function tolerance(o: ScoreOptions): number {
  const t = o.toleranceFrames ?? DEFAULT_TOLERANCE_FRAMES;
  if (!Number.isFinite(t) || t < 0) throw new RangeError(`toleranceFrames must be >= 0, got ${t}`);
  return t;
}

/** Line crossings: same direction, frames within the tolerance. */
export function scoreCrossings(truth: readonly Crossing[], engine: readonly Crossing[], o: ScoreOptions = {}): Score {
  const tol = tolerance(o);
  return matchOneToOne(truth, engine, (t, e) => {
    const d = Math.abs(t.frame - e.frame);
    return t.direction === e.direction && d <= tol ? d : undefined;
  });
}

/** Point events with no direction (a dwell firing): frames within the tolerance. */
export function scoreMoments(truth: readonly number[], engine: readonly number[], o: ScoreOptions = {}): Score {
  const tol = tolerance(o);
  return matchOneToOne(truth, engine, (t, e) => {
    const d = Math.abs(t - e);
    return d <= tol ? d : undefined;
  });
}

/**
 * Zone visits: entry AND exit each within the tolerance. A visit split in two by a flicker is one match (at
 * best) and a false alarm; two visits merged into one are a match and a miss.
 */
export function scoreVisits(truth: readonly Visit[], engine: readonly Visit[], o: ScoreOptions = {}): Score {
  const tol = tolerance(o);
  return matchOneToOne(truth, engine, (t, e) => {
    const a = Math.abs(t.enter - e.enter);
    const b = Math.abs(t.leave - e.leave);
    return a <= tol && b <= tol ? a + b : undefined;
  });
}
