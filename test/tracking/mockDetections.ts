import { makeDetections, type Detections } from '../../src/detections.js';

/** One scripted detection: a box in source pixels, with optional score, class and track id. */
export interface MockBox {
  box: readonly [number, number, number, number];
  conf?: number;
  cls?: number;
  track?: number;
}

/** Detections from a readable list (the supervision tests' mock_detections idea). */
export function mockDetections(rows: readonly MockBox[]): Detections {
  return makeDetections({
    xyxy: Float32Array.from(rows.flatMap((r) => [...r.box])),
    confidence: Float32Array.from(rows.map((r) => r.conf ?? 0.9)),
    classId: Int32Array.from(rows.map((r) => r.cls ?? 0)),
    trackId: Int32Array.from(rows.map((r) => r.track ?? -1)),
  });
}

/** A w×h box whose centre is (cx, cy). */
export function boxAt(cx: number, cy: number, w = 40, h = 80): [number, number, number, number] {
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}
