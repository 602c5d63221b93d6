/**
 * Association for the tracker: box IoU and a minimum-cost assignment with a cost limit.
 *
 * Why Hungarian and not greedy: with objects crossing each other, greedy takes the single best pair first and
 * can leave the other object with nothing; the optimal assignment keeps both. The sizes here (tens of tracks ×
 * tens of detections) make O(n²·m) cheap.
 */

/** IoU of box i of `a` and box j of `b` (xyxy, 4 numbers per box). */
export { boxIou as iou } from '../detections.js';

/**
 * Pairs (row, col) of the assignment that minimises the total cost, keeping only pairs cheaper than `limit`.
 * `cost` is rows×cols, row-major.
 *
 * Clipping every cost at `limit` before solving gives the same answer as the "extended" formulation (leaving a
 * row and a column unmatched costs `limit`): an over-limit pair and two unmatched ends cost the same, so the
 * solver has no reason to prefer a bad pair over a good one. Pairs at or above the limit are then dropped.
 */
export function linearAssignment(cost: Float64Array, rows: number, cols: number, limit: number): Array<[number, number]> {
  if (rows === 0 || cols === 0) return [];
  // The solver below wants n ≤ m: transpose when there are more rows than columns.
  const transpose = rows > cols;
  const n = transpose ? cols : rows;
  const m = transpose ? rows : cols;
  const at = (i: number, j: number): number => {
    const c = transpose ? cost[j * cols + i]! : cost[i * cols + j]!;
    return Number.isFinite(c) ? Math.min(c, limit) : limit;
  };
  const colOwner = hungarian(n, m, at);
  const pairs: Array<[number, number]> = [];
  for (let j = 0; j < m; j++) {
    const i = colOwner[j]!;
    if (i < 0) continue;
    const [r, c] = transpose ? [j, i] : [i, j];
    if (cost[r * cols + c]! < limit) pairs.push([r, c]);
  }
  return pairs.sort((p, q) => p[0] - q[0]);
}

/**
 * Shortest-augmenting-path Hungarian method with row and column potentials, for an n×m matrix (n ≤ m).
 * Returns, for every column, the row assigned to it or -1.
 */
function hungarian(n: number, m: number, at: (i: number, j: number) => number): Int32Array {
  // 1-based internally: column 0 is the virtual start of each augmenting path.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const owner = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    owner[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = owner[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = at(i0 - 1, j - 1) - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[owner[j]!] = u[owner[j]!]! + delta;
          v[j] = v[j]! - delta;
        } else {
          minv[j] = minv[j]! - delta;
        }
      }
      j0 = j1;
    } while (owner[j0] !== 0);
    do {
      const j1 = way[j0]!;
      owner[j0] = owner[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const result = new Int32Array(m).fill(-1);
  for (let j = 1; j <= m; j++) if (owner[j]! > 0) result[j - 1] = owner[j]! - 1;
  return result;
}
