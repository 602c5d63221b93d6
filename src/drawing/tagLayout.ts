/**
 * Where the frame's text tags go, so that none covers another and none leaves the frame.
 *
 * Each tag comes with a few candidate top-left corners, best first (for a box: above it, inside its top
 * edge, below it…). Every candidate is first clamped into the frame (and to even pixels, so a tag's
 * colour edges stay crisp in 4:2:0). Tags are placed one by one, most important first (the caller's
 * order): a tag takes its first candidate that touches no tag placed before it; when every candidate
 * touches one, it takes the one whose total overlap is smallest (the earliest of equals). Nothing here
 * is random or depends on timing: the same tags in the same order always land on the same spots.
 *
 * Fixed things that tags must avoid (the header bar) are `reserve`d first. The layout is reused frame
 * after frame: `begin` forgets the previous frame's tags without allocating.
 */

const evenDown = (v: number): number => Math.floor(v / 2) * 2;

export class TagLayout {
  /** Placed rectangles as x, y, w, h. Grows (doubling) past the most tags a frame ever had. */
  private rects = new Int32Array(4 * 64);
  private count = 0;
  private width = 0;
  private height = 0;

  /** Start a frame of `width` x `height`: no tag placed yet. */
  begin(width: number, height: number): void {
    this.width = width;
    this.height = height;
    this.count = 0;
  }

  /** Tags placed (and reserved) so far this frame. */
  get size(): number {
    return this.count;
  }

  /** Rectangle i (in placing order, reserved ones included) as x, y, w, h into `out`: for tests and debugging. */
  rect(i: number, out: Int32Array): Int32Array {
    if (i < 0 || i >= this.count) throw new RangeError(`no tag ${i}: ${this.count} placed`);
    out.set(this.rects.subarray(4 * i, 4 * i + 4));
    return out;
  }

  /** Mark a rectangle as taken without choosing anything (a fixed bar, a tag drawn elsewhere). */
  reserve(x: number, y: number, w: number, h: number): void {
    if (!(w > 0 && h > 0)) return;
    this.push(x, y, w, h);
  }

  /**
   * Place a w x h tag at one of `n` candidate top-left corners, stored flat as x, y pairs in `cand`.
   * `preferred` (a candidate index, e.g. where this object's tag was last frame) is tried right after
   * the first, best, candidate: a tag pushed aside by a neighbour stays on its new spot while that one
   * is free instead of hopping around as the objects move, and returns home once home is free. Writes the chosen corner, clamped into the
   * frame, to out[0], out[1] and returns the chosen candidate's index (-1 when n is 0: nothing placed).
   */
  place(cand: ArrayLike<number>, n: number, w: number, h: number, out: Int32Array, preferred = -1): number {
    if (n <= 0) return -1;
    let best = -1;
    let bestOverlap = Infinity;
    let bestX = 0;
    let bestY = 0;
    const pref = preferred > 0 && preferred < n ? preferred : -1;
    for (let t = 0; t < n; t++) {
      // The best spot, then the preferred one, then the rest in order.
      const c = pref < 0 || t === 0 ? t : t === 1 ? pref : t <= pref ? t - 1 : t;
      const x = this.clampX(cand[2 * c]!, w);
      const y = this.clampY(cand[2 * c + 1]!, h);
      const overlap = this.overlapWith(x, y, w, h, bestOverlap);
      if (overlap < bestOverlap) {
        best = c;
        bestOverlap = overlap;
        bestX = x;
        bestY = y;
        if (overlap === 0) break;
      }
    }
    out[0] = bestX;
    out[1] = bestY;
    this.push(bestX, bestY, w, h);
    return best;
  }

  /** Total area the rectangle shares with the tags placed so far; stops counting once past `limit`. */
  overlapWith(x: number, y: number, w: number, h: number, limit = Infinity): number {
    const r = this.rects;
    let sum = 0;
    for (let i = 0, end = 4 * this.count; i < end; i += 4) {
      const ox = Math.min(x + w, r[i]! + r[i + 2]!) - Math.max(x, r[i]!);
      if (ox <= 0) continue;
      const oy = Math.min(y + h, r[i + 1]! + r[i + 3]!) - Math.max(y, r[i + 1]!);
      if (oy <= 0) continue;
      sum += ox * oy;
      if (sum >= limit) return sum;
    }
    return sum;
  }

  /** Left edge inside the frame; a tag wider than the frame starts at 0 (its end is cut, never its start). */
  private clampX(x: number, w: number): number {
    const max = Math.max(0, evenDown(this.width - w));
    const v = Number.isFinite(x) ? evenDown(x) : 0;
    return v < 0 ? 0 : v > max ? max : v;
  }

  private clampY(y: number, h: number): number {
    const max = Math.max(0, evenDown(this.height - h));
    const v = Number.isFinite(y) ? evenDown(y) : 0;
    return v < 0 ? 0 : v > max ? max : v;
  }

  private push(x: number, y: number, w: number, h: number): void {
    if (4 * (this.count + 1) > this.rects.length) {
      const grown = new Int32Array(this.rects.length * 2);
      grown.set(this.rects);
      this.rects = grown;
    }
    const o = 4 * this.count++;
    this.rects[o] = x;
    this.rects[o + 1] = y;
    this.rects[o + 2] = w;
    this.rects[o + 3] = h;
  }
}

/** How many candidates boxTagCandidates writes. */
export const BOX_TAG_CANDIDATES = 8;

/**
 * Candidate corners for a box's w x h tag, best first, into `out` (x, y pairs); returns their count.
 * Above the box, left-aligned then right-aligned (the usual place, clear of the object); inside its top
 * edge (a box at the top of the frame, or a neighbour's tag above); below it; inside its bottom edge;
 * then a second row above and below, for crowds where the first rows are taken.
 */
export function boxTagCandidates(out: Float64Array, x1: number, y1: number, x2: number, y2: number, w: number, h: number): number {
  const right = x2 - w;
  out[0] = x1;
  out[1] = y1 - h;
  out[2] = right;
  out[3] = y1 - h;
  out[4] = x1;
  out[5] = y1;
  out[6] = x1;
  out[7] = y2;
  out[8] = right;
  out[9] = y2;
  out[10] = x1;
  out[11] = y2 - h;
  out[12] = x1;
  out[13] = y1 - 2 * h;
  out[14] = x1;
  out[15] = y2 + h;
  return BOX_TAG_CANDIDATES;
}

/** How many candidates eventTagCandidates writes. */
export const EVENT_TAG_CANDIDATES = 6;

/**
 * Candidate corners for a rule's short text next to an object (placed before the box tags, which keep
 * the row above): below the box, beside it on the right then the left at its top, inside its bottom
 * edge, then above it.
 */
export function eventTagCandidates(out: Float64Array, x1: number, y1: number, x2: number, y2: number, w: number, h: number): number {
  out[0] = x1;
  out[1] = y2;
  out[2] = x2;
  out[3] = y1;
  out[4] = x1 - w;
  out[5] = y1;
  out[6] = x1;
  out[7] = y2 - h;
  out[8] = x2 - w;
  out[9] = y2;
  out[10] = x1;
  out[11] = y1 - h;
  return EVENT_TAG_CANDIDATES;
}
