/**
 * Multi-object tracker after ByteTrack (Zhang et al. 2022, "ByteTrack: Multi-Object Tracking by Associating
 * Every Detection Box"): a Kalman prediction per track, then two association passes — confident detections
 * against every track, then the leftover weak detections against the tracks still being followed — so a
 * briefly occluded, low-scoring object keeps its track instead of being dropped.
 *
 * Why our own: npm has no maintained ByteTrack (the package named "bytetrack" is an unrelated web app), and
 * the algorithm is small. Differences from the paper, each for a reason of this product:
 * - time is pts seconds, not frame counts (buffers mean the same at any frame rate or every_nth_frame);
 * - class-aware: a track only matches detections of its own class, so a track keeps its class;
 * - public ids are handed out only when a track is confirmed and are never reused within the tracker's life
 *   (reset() included), so ids stay unique within a run and spurious one-frame tracks do not burn ids;
 * - bounded: lost tracks expire after lost_track_buffer_s and at most max_tracks live at once.
 */
import { makeDetections, type Detections } from '../detections.js';
import { initiate, predict as kfPredict, update as kfUpdate, stateToXyxy, xyxyToXyah, REFERENCE_FPS, type KalmanState } from './kalman.js';
import { iou, linearAssignment } from './matching.js';
import { trackerOptionsSchema, type TrackerOptions, type TrackerOptionsInput } from './options.js';

/** Matching limits of the second (weak detections) and third (unconfirmed tracks) passes, as in the paper. */
const LOW_PASS_LIMIT = 0.5;
const UNCONFIRMED_LIMIT = 0.7;
/** Two boxes of different classes never match: a cost above any limit (limits are at most 1). */
const NO_MATCH = 2;
/** Float tolerance so that a gap of exactly lost_track_buffer_s still keeps the id. */
const EPS = 1e-9;

interface Track {
  /** Public id, -1 until confirmed. */
  id: number;
  readonly classId: number;
  score: number;
  readonly kf: KalmanState;
  /** Source time the Kalman state refers to. */
  timeS: number;
  lastSeenS: number;
  /** Detection frames in a row this track was matched. */
  hits: number;
  /** Missed on the latest detection frame (kept for lost_track_buffer_s). */
  lost: boolean;
}

export interface Tracker {
  /** The same detections (same order, same boxes) with trackId set; -1 where no confirmed track matched. */
  update(detections: Detections, ptsS: number): Detections;
  /** Followed tracks carried to ptsS along their velocity, for frames the detector skipped. Sorted by id. */
  predict(ptsS: number): Detections;
  /** Public ids of tracks removed (expired, evicted or reset) since the last call. */
  takeExpired(): number[];
  /** Drop every track; ids already given are still never reused. */
  reset(): void;
  /** A new track_activation_threshold from the next update (the config's inference.confidence changed). */
  setActivationThreshold(score: number): void;
  /** Live tracks, confirmed or not (for tests and metrics). */
  readonly size: number;
  readonly options: TrackerOptions;
}

export function createTracker(input: TrackerOptionsInput = {}): Tracker {
  let opts = trackerOptionsSchema.parse(input);
  let tracks: Track[] = [];
  let nextId = 1;
  let lastT: number | undefined;
  let expired: number[] = [];
  const z = new Float64Array(4);

  /** Time never runs backwards inside the tracker: a pts below the last one is treated as the last one. */
  function advance(ptsS: number): number {
    const t = Number.isFinite(ptsS) ? Math.max(ptsS, lastT ?? ptsS) : (lastT ?? 0);
    lastT = t;
    return t;
  }

  function retire(track: Track): void {
    if (track.id >= 0) expired.push(track.id);
    // Bounded even if nobody drains it.
    if (expired.length > 4 * opts.max_tracks) expired = expired.slice(-opts.max_tracks);
  }

  function expireLost(t: number): void {
    tracks = tracks.filter((tr) => {
      const keep = !tr.lost || t - tr.lastSeenS <= opts.lost_track_buffer_s + EPS;
      if (!keep) retire(tr);
      return keep;
    });
  }

  function confirmIfDue(tr: Track): void {
    if (tr.id < 0 && tr.hits >= opts.minimum_consecutive_frames) tr.id = nextId++;
  }

  function apply(tr: Track, d: Detections, i: number, t: number): void {
    xyxyToXyah(d.xyxy[4 * i]!, d.xyxy[4 * i + 1]!, d.xyxy[4 * i + 2]!, d.xyxy[4 * i + 3]!, z);
    kfUpdate(tr.kf, z);
    tr.score = d.confidence[i]!;
    tr.lastSeenS = t;
    tr.hits = tr.lost ? 1 : tr.hits + 1;
    tr.lost = false;
    confirmIfDue(tr);
  }

  /** Match `pool` tracks to `dets` detection indices; matched pairs are applied and removed from both lists. */
  function associate(
    pool: Track[],
    dets: number[],
    boxes: Map<Track, number[]>,
    d: Detections,
    t: number,
    limit: number,
    fuseScore: boolean,
    assigned: Int32Array,
  ): { tracks: Track[]; dets: number[] } {
    const cost = new Float64Array(pool.length * dets.length);
    pool.forEach((tr, r) => {
      const box = boxes.get(tr)!;
      dets.forEach((di, c) => {
        if (d.classId[di] !== tr.classId) return void (cost[r * dets.length + c] = NO_MATCH);
        const sim = iou(box, 0, d.xyxy, di) * (fuseScore ? d.confidence[di]! : 1);
        cost[r * dets.length + c] = 1 - sim;
      });
    });
    const usedT = new Set<number>();
    const usedD = new Set<number>();
    for (const [r, c] of linearAssignment(cost, pool.length, dets.length, limit)) {
      const tr = pool[r]!;
      const di = dets[c]!;
      apply(tr, d, di, t);
      assigned[di] = tr.id;
      usedT.add(r);
      usedD.add(c);
    }
    return { tracks: pool.filter((_, r) => !usedT.has(r)), dets: dets.filter((_, c) => !usedD.has(c)) };
  }

  /**
   * Like associate, by centre distance in units of the predicted box height instead of IoU. Used only for what
   * IoU left unmatched: at low detection rates a moving object's boxes no longer overlap enough, while its
   * Kalman prediction still lands near it.
   */
  function associateByDistance(pool: Track[], dets: number[], boxes: Map<Track, number[]>, d: Detections, t: number, assigned: Int32Array): { tracks: Track[]; dets: number[] } {
    const maxDist = opts.distance_matching_threshold;
    if (maxDist <= 0 || pool.length === 0 || dets.length === 0) return { tracks: pool, dets };
    const cost = new Float64Array(pool.length * dets.length);
    pool.forEach((tr, r) => {
      const [bx1, by1, bx2, by2] = boxes.get(tr)! as [number, number, number, number];
      const h = Math.max(1, by2 - by1);
      dets.forEach((di, c) => {
        if (d.classId[di] !== tr.classId) return void (cost[r * dets.length + c] = NO_MATCH);
        const dx = (d.xyxy[4 * di]! + d.xyxy[4 * di + 2]! - bx1 - bx2) / 2;
        const dy = (d.xyxy[4 * di + 1]! + d.xyxy[4 * di + 3]! - by1 - by2) / 2;
        cost[r * dets.length + c] = Math.sqrt(dx * dx + dy * dy) / (h * maxDist);
      });
    });
    const usedT = new Set<number>();
    const usedD = new Set<number>();
    for (const [r, c] of linearAssignment(cost, pool.length, dets.length, 1)) {
      apply(pool[r]!, d, dets[c]!, t);
      assigned[dets[c]!] = pool[r]!.id;
      usedT.add(r);
      usedD.add(c);
    }
    return { tracks: pool.filter((_, r) => !usedT.has(r)), dets: dets.filter((_, c) => !usedD.has(c)) };
  }

  function isValid(d: Detections, i: number): boolean {
    const x1 = d.xyxy[4 * i]!, y1 = d.xyxy[4 * i + 1]!, x2 = d.xyxy[4 * i + 2]!, y2 = d.xyxy[4 * i + 3]!;
    return [x1, y1, x2, y2, d.confidence[i]!].every(Number.isFinite) && x2 > x1 && y2 > y1;
  }

  function startTrack(d: Detections, i: number, t: number): Track | undefined {
    if (tracks.length >= opts.max_tracks) {
      // Make room by dropping the track lost the longest; a full set of followed tracks wins over a newcomer.
      let oldest: Track | undefined;
      for (const tr of tracks) if (tr.lost && (!oldest || tr.lastSeenS < oldest.lastSeenS)) oldest = tr;
      if (!oldest) return undefined;
      tracks = tracks.filter((tr) => tr !== oldest);
      retire(oldest);
    }
    xyxyToXyah(d.xyxy[4 * i]!, d.xyxy[4 * i + 1]!, d.xyxy[4 * i + 2]!, d.xyxy[4 * i + 3]!, z);
    const tr: Track = { id: -1, classId: d.classId[i]!, score: d.confidence[i]!, kf: initiate(z), timeS: t, lastSeenS: t, hits: 1, lost: false };
    confirmIfDue(tr);
    tracks.push(tr);
    return tr;
  }

  return {
    get size() {
      return tracks.length;
    },
    get options() {
      return opts;
    },

    update(d, ptsS) {
      const t = advance(ptsS);
      expireLost(t);
      const boxes = new Map<Track, number[]>();
      for (const tr of tracks) {
        // A lost box keeps its size: its height velocity is no longer observed (as in the paper).
        if (tr.lost) tr.kf.mean[7] = 0;
        kfPredict(tr.kf, (t - tr.timeS) * REFERENCE_FPS);
        tr.timeS = t;
        boxes.set(tr, stateToXyxy(tr.kf));
      }
      const high: number[] = [];
      const low: number[] = [];
      for (let i = 0; i < d.count; i++) {
        if (!isValid(d, i)) continue;
        const s = d.confidence[i]!;
        if (s >= opts.track_activation_threshold) high.push(i);
        else if (s >= opts.low_score_threshold) low.push(i);
      }
      const assigned = new Int32Array(d.count).fill(-1);
      const confirmed = tracks.filter((tr) => tr.id >= 0);
      const unconfirmed = tracks.filter((tr) => tr.id < 0);

      // 1: confident detections against every confirmed track, followed or lost.
      const byIou = associate(confirmed, high, boxes, d, t, opts.minimum_matching_threshold, true, assigned);
      // 1b: what IoU could not pair, by distance to the predicted centre (objects fast for the detection rate).
      const first = associateByDistance(byIou.tracks, byIou.dets, boxes, d, t, assigned);
      // 2: weak detections only extend tracks that were followed until now; they never revive or start one.
      const followed = first.tracks.filter((tr) => !tr.lost);
      const secondByIou = associate(followed, low, boxes, d, t, LOW_PASS_LIMIT, false, assigned);
      // 2b: as 1b, for the weak ones: at a low detection rate a walker half hidden moves off its own box.
      const second = associateByDistance(secondByIou.tracks, secondByIou.dets, boxes, d, t, assigned);
      for (const tr of second.tracks) tr.lost = true;
      // 3: tracks not yet confirmed get one more chance with the leftover confident detections.
      const third = associate(unconfirmed, first.dets, boxes, d, t, UNCONFIRMED_LIMIT, true, assigned);
      // A track must be matched on consecutive detection frames to be confirmed: a miss ends it.
      const dropped = new Set(third.tracks);
      if (dropped.size > 0) tracks = tracks.filter((tr) => !dropped.has(tr));
      for (const di of third.dets) {
        const tr = startTrack(d, di, t);
        if (tr) assigned[di] = tr.id;
      }
      return makeDetections({ xyxy: d.xyxy, confidence: d.confidence, classId: d.classId, trackId: assigned });
    },

    predict(ptsS) {
      const t = advance(ptsS);
      expireLost(t);
      const shown = tracks.filter((tr) => tr.id >= 0 && !tr.lost).sort((a, b) => a.id - b.id);
      const xyxy = new Float32Array(4 * shown.length);
      const confidence = new Float32Array(shown.length);
      const classId = new Int32Array(shown.length);
      const trackId = new Int32Array(shown.length);
      shown.forEach((tr, k) => {
        // Extrapolate without committing: the next update() predicts from the last measured state.
        xyxy.set(stateToXyxy(tr.kf, (t - tr.timeS) * REFERENCE_FPS), 4 * k);
        confidence[k] = tr.score;
        classId[k] = tr.classId;
        trackId[k] = tr.id;
      });
      return makeDetections({ xyxy, confidence, classId, trackId });
    },

    takeExpired() {
      const out = expired;
      expired = [];
      return out;
    },

    reset() {
      for (const tr of tracks) retire(tr);
      tracks = [];
      lastT = undefined;
    },

    setActivationThreshold(score) {
      opts = trackerOptionsSchema.parse({ ...opts, track_activation_threshold: score });
    },
  };
}
