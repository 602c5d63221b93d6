/**
 * Track trails: where each tracked object has been over its last N frames, as a polyline that fades and
 * thins towards its oldest end. The points are smoothed before drawing (a moving average over a few
 * frames): raw box anchors jitter by a pixel or two each frame, which drew as squiggles. The width
 * scales with the frame so a trail reads at 1080p as at 576p. (Track ids in the box tags and rule
 * highlights live in boxAnnotator.)
 *
 * Memory is fixed at creation: one ring of N anchor points per slot and a capped number of slots. A
 * track that is gone for `evictAfter` frames frees its slot; when all slots are taken, the track seen
 * least recently makes room. Drawing records this frame's anchors first, so call draw() once per frame.
 */
import type { Detections } from '../detections.js';
import { boxSizes, type BoxStyle } from './boxAnnotator.js';
import { Palette } from './palette.js';
import { drawSegmentFrom } from './raster.js';
import type { FramePixels } from './yuv.js';

/** Which point of the box a trail follows: bottom-centre is where a walker's feet (and rule tests) are. */
export type TrailAnchor = 'bottom_center' | 'center';

export interface TrailStyle extends Pick<BoxStyle, 'thickness' | 'palette'> {
  /** Width of the newest segment in pixels; default 2 box outlines or 1/140 of the frame's short side, the larger. */
  width?: number;
  /** Points kept per track (frames); default 30. */
  length?: number;
  /** Tracks remembered at once; default 256. */
  maxTracks?: number;
  /** Frames a track may be missing before its trail is dropped; default `length`. */
  evictAfter?: number;
  anchor?: TrailAnchor;
  /** Opacity of the newest segment; older ones fade linearly with age down to a fifth of it. Default 0.9. */
  opacity?: number;
}

export interface TrailAnnotatorOptions {
  width: number;
  height: number;
  style?: TrailStyle;
}

export interface TrailAnnotator {
  readonly length: number;
  /** Record this frame's anchors, then draw the trail of every track present in it (in class colours). */
  draw(frame: FramePixels, detections: Detections): void;
  /** Tracks currently remembered (tests, metrics). */
  readonly trackCount: number;
  /** Forget every trail (a source reconnect makes old positions meaningless). */
  reset(): void;
}

export const DEFAULT_TRAIL_LENGTH = 30;
const DEFAULT_MAX_TRACKS = 256;
/** Points averaged on each side of a trail point (so 7 in all): enough to iron out box jitter, little lag. */
const SMOOTH_RADIUS = 3;
/** Width and opacity of the oldest segment relative to the newest: faded, still visible. */
const TAIL_WIDTH = 0.45;
const TAIL_ALPHA = 0.2;

export function createTrailAnnotator(opts: TrailAnnotatorOptions): TrailAnnotator {
  const style = opts.style ?? {};
  const len = Math.max(2, Math.floor(style.length ?? DEFAULT_TRAIL_LENGTH));
  const maxTracks = Math.max(1, Math.floor(style.maxTracks ?? DEFAULT_MAX_TRACKS));
  const evictAfter = Math.max(1, Math.floor(style.evictAfter ?? len));
  const anchorBottom = (style.anchor ?? 'bottom_center') === 'bottom_center';
  const opacity256 = Math.round(Math.min(1, Math.max(0, style.opacity ?? 0.9)) * 256);
  const boxThickness = boxSizes(opts.width, opts.height, style).thickness;
  const width = style.width !== undefined && style.width > 0
    ? style.width
    : Math.max(2 * boxThickness, Math.min(opts.width, opts.height) / 140);
  const minStep2 = Math.max(2, 0.75 * width) ** 2;
  // One trail's smoothed points, reused for every trail of every frame.
  const smooth = new Float64Array(len * 2);
  const palette = new Palette(style.palette);

  const pts = new Float32Array(maxTracks * len * 2);
  const head = new Int32Array(maxTracks); // next write position in the slot's ring
  const filled = new Int32Array(maxTracks); // points held, up to len
  const lastSeen = new Float64Array(maxTracks);
  const owner = new Int32Array(maxTracks).fill(-1); // track id per slot, -1 free
  const slotOf = new Map<number, number>();
  let frameNo = 0;

  const free = (s: number): void => {
    slotOf.delete(owner[s]!);
    owner[s] = -1;
    filled[s] = 0;
    head[s] = 0;
  };

  /** A slot for a new track: a free one, else the least recently seen one not seen this frame. */
  const claim = (trackId: number): number => {
    let victim = -1;
    for (let s = 0; s < maxTracks; s++) {
      if (owner[s] === -1) {
        victim = s;
        break;
      }
      if (lastSeen[s]! < frameNo && (victim < 0 || lastSeen[s]! < lastSeen[victim]!)) victim = s;
    }
    if (victim < 0) return -1; // more tracks in one frame than slots: the extra ones get no trail
    if (owner[victim] !== -1) free(victim);
    owner[victim] = trackId;
    slotOf.set(trackId, victim);
    return victim;
  };

  const record = (d: Detections): void => {
    frameNo++;
    for (let s = 0; s < maxTracks; s++) if (owner[s] !== -1 && frameNo - lastSeen[s]! > evictAfter) free(s);
    for (let i = 0; i < d.count; i++) {
      const id = d.trackId[i]!;
      if (id < 0) continue;
      const x1 = d.xyxy[4 * i]!;
      const y1 = d.xyxy[4 * i + 1]!;
      const x2 = d.xyxy[4 * i + 2]!;
      const y2 = d.xyxy[4 * i + 3]!;
      if (!(Number.isFinite(x1) && Number.isFinite(y1) && Number.isFinite(x2) && Number.isFinite(y2))) continue;
      const s = slotOf.get(id) ?? claim(id);
      if (s < 0 || (lastSeen[s] === frameNo && filled[s]! > 0)) continue; // one point per track per frame
      lastSeen[s] = frameNo;
      const o = (s * len + head[s]!) * 2;
      pts[o] = (x1 + x2) / 2;
      pts[o + 1] = anchorBottom ? Math.max(y1, y2) : (y1 + y2) / 2;
      head[s] = (head[s]! + 1) % len;
      if (filled[s]! < len) filled[s] = filled[s]! + 1;
    }
  };

  const drawTrail = (frame: FramePixels, s: number, classId: number): void => {
    const n = filled[s]!;
    if (n < 2) return;
    const color = palette.forClass(classId).fill;
    const first = (head[s]! - n + len) % len; // oldest point
    // Centred moving average, the window shrinking towards both ends so the newest point stays on the
    // object (and the oldest where the trail began).
    for (let k = 0; k < n; k++) {
      const r = Math.min(SMOOTH_RADIUS, k, n - 1 - k);
      let sx = 0;
      let sy = 0;
      for (let j = k - r; j <= k + r; j++) {
        const o = (s * len + ((first + j) % len)) * 2;
        sx += pts[o]!;
        sy += pts[o + 1]!;
      }
      smooth[2 * k] = sx / (2 * r + 1);
      smooth[2 * k + 1] = sy / (2 * r + 1);
    }
    // Segments between points at least minStep apart: a slow walker's points lie a pixel or two apart,
    // and drawing each as its own wide quad cost twice the old thin trail (measured at 720p, 100
    // tracks) while the overlapping translucent ends blended into darker beads.
    let from = 0;
    for (let k = 1; k < n; k++) {
      const dx = smooth[2 * k]! - smooth[2 * from]!;
      const dy = smooth[2 * k + 1]! - smooth[2 * from + 1]!;
      if (k < n - 1 && dx * dx + dy * dy < minStep2) continue;
      // Opacity and width grow linearly with the age of the segment's newer end, full at the newest.
      // Alpha as 0–256 fixed point: an integer argument is never boxed, so the trails make no garbage.
      const age = (k + len - n) / (len - 1);
      const alpha = Math.round(opacity256 * (TAIL_ALPHA + (1 - TAIL_ALPHA) * age));
      const w = Math.max(1, Math.round(width * (TAIL_WIDTH + (1 - TAIL_WIDTH) * age)));
      drawSegmentFrom(frame, smooth, 2 * from, 2 * k, w, color, alpha);
      from = k;
    }
  };

  return {
    length: len,
    get trackCount() {
      return slotOf.size;
    },
    draw(frame, d) {
      record(d);
      for (let i = 0; i < d.count; i++) {
        const id = d.trackId[i]!;
        if (id < 0) continue;
        const s = slotOf.get(id);
        if (s !== undefined) drawTrail(frame, s, d.classId[i]!);
      }
    },
    reset() {
      for (let s = 0; s < maxTracks; s++) if (owner[s] !== -1) free(s);
      frameNo = 0;
      lastSeen.fill(0);
    },
  };
}
