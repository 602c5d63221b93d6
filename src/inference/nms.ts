import { boxIou } from '../detections.js';

/**
 * Intersection over union of boxes i and j of a packed xyxy array. Continuous coordinates (no "+1"
 * pixel-inclusive areas as in YOLOX's numpy nms): that convention is meant for integer pixel boxes and
 * cv2.dnn.NMSBoxes, which the reference test uses, does not apply it either.
 */
export function iou(xyxy: ArrayLike<number>, i: number, j: number): number {
  return boxIou(xyxy, i, xyxy, j);
}

/**
 * Class-aware greedy NMS, as YOLOX's multiclass_nms_class_aware: classes never suppress each other; within
 * a class, candidates are visited best first and a box is dropped when its IoU with a kept one is above
 * `iouThreshold` (≤ keeps, as both YOLOX and OpenCV do). Ties keep the lower index first (OpenCV's stable
 * sort). Returns the kept candidate indices, best score first across classes.
 *
 * `classIds` is the NMS key: a class group passes its reported id for every member, agnostic NMS the same
 * key for all (the boxes keep their own classes).
 *
 * Cost is O(k²) within a class; k is the candidates above the confidence threshold (tens per frame).
 */
export function nmsClassAware(
  xyxy: ArrayLike<number>,
  scores: ArrayLike<number>,
  classIds: ArrayLike<number>,
  count: number,
  iouThreshold: number,
): Int32Array {
  const order = new Int32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  order.sort((a, b) => classIds[a]! - classIds[b]! || scores[b]! - scores[a]! || a - b);
  const suppressed = new Uint8Array(count);
  const kept: number[] = [];
  let start = 0;
  while (start < count) {
    const cls = classIds[order[start]!]!;
    let end = start;
    while (end < count && classIds[order[end]!] === cls) end++;
    for (let a = start; a < end; a++) {
      const i = order[a]!;
      if (suppressed[i]) continue;
      kept.push(i);
      for (let b = a + 1; b < end; b++) {
        const j = order[b]!;
        if (!suppressed[j] && iou(xyxy, i, j) > iouThreshold) suppressed[j] = 1;
      }
    }
    start = end;
  }
  kept.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return Int32Array.from(kept);
}
