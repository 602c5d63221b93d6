/**
 * Detections of one frame as parallel typed arrays (the supervision idea): every stage reads and
 * returns this one shape, so no per-object allocation happens on the hot path.
 * Boxes are in pixels of the source frame, [x1, y1, x2, y2] per detection.
 */
export interface Detections {
  readonly count: number;
  /** 4 * count floats: x1, y1, x2, y2 in source pixels. */
  readonly xyxy: Float32Array;
  readonly confidence: Float32Array;
  readonly classId: Int32Array;
  /** -1 = not tracked. */
  readonly trackId: Int32Array;
}

export class DetectionsShapeError extends Error {
  override name = 'DetectionsShapeError';
}

export function makeDetections(fields: {
  xyxy: Float32Array;
  confidence: Float32Array;
  classId: Int32Array;
  trackId?: Int32Array;
}): Detections {
  const count = fields.confidence.length;
  if (fields.xyxy.length !== count * 4) {
    throw new DetectionsShapeError(`xyxy has ${fields.xyxy.length} values, expected ${count * 4}`);
  }
  if (fields.classId.length !== count) {
    throw new DetectionsShapeError(`classId has ${fields.classId.length} values, expected ${count}`);
  }
  const trackId = fields.trackId ?? new Int32Array(count).fill(-1);
  if (trackId.length !== count) {
    throw new DetectionsShapeError(`trackId has ${trackId.length} values, expected ${count}`);
  }
  return { count, xyxy: fields.xyxy, confidence: fields.confidence, classId: fields.classId, trackId };
}

export function emptyDetections(): Detections {
  return makeDetections({ xyxy: new Float32Array(0), confidence: new Float32Array(0), classId: new Int32Array(0) });
}

/** The detections whose index passes `keep`, as a new Detections. */
export function selectDetections(d: Detections, keep: (i: number) => boolean): Detections {
  const idx: number[] = [];
  for (let i = 0; i < d.count; i++) if (keep(i)) idx.push(i);
  const xyxy = new Float32Array(idx.length * 4);
  const confidence = new Float32Array(idx.length);
  const classId = new Int32Array(idx.length);
  const trackId = new Int32Array(idx.length);
  idx.forEach((src, dst) => {
    xyxy.set(d.xyxy.subarray(src * 4, src * 4 + 4), dst * 4);
    confidence[dst] = d.confidence[src]!;
    classId[dst] = d.classId[src]!;
    trackId[dst] = d.trackId[src]!;
  });
  return { count: idx.length, xyxy, confidence, classId, trackId };
}

/**
 * IoU of box i of `a` and box j of `b` (packed xyxy, 4 numbers per box), on continuous coordinates (no
 * "+1" pixel-inclusive areas). 0 for boxes without area. Shared by NMS and the tracker's matching.
 */
export function boxIou(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number): number {
  const ax1 = a[4 * i]!, ay1 = a[4 * i + 1]!, ax2 = a[4 * i + 2]!, ay2 = a[4 * i + 3]!;
  const bx1 = b[4 * j]!, by1 = b[4 * j + 1]!, bx2 = b[4 * j + 2]!, by2 = b[4 * j + 3]!;
  const iw = Math.min(ax2, bx2) - Math.max(ax1, bx1);
  const ih = Math.min(ay2, by2) - Math.max(ay1, by1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
  return union > 0 ? inter / union : 0;
}
