/**
 * The inference section's geometric filters, applied before tracking so that an ignored area (a screen, a
 * poster, a parking lot across the street) never creates tracks: `min_area` (fraction of the frame) and
 * `ignore_zones` (polygons; a detection whose bottom centre falls inside one is dropped, as Frigate's masks do).
 */
import { selectDetections, type Detections } from '../detections.js';
import type { InferenceConfig } from '../config/inference.js';
import { anchorPoint, pointInPolygon, toPixels } from '../geometry.js';

/**
 * `confidence` is not applied here: it is the tracker's activation threshold (see the rules engine), since
 * the detector also hands on weaker boxes that may only extend a track.
 */
export type DetectionFilters = Pick<InferenceConfig, 'min_area' | 'ignore_zones' | 'confidence'>;

export function createDetectionFilter(filters: Partial<DetectionFilters>, width: number, height: number): (d: Detections) => Detections {
  const minAreaPx = (filters.min_area ?? 0) * width * height;
  const zones = (filters.ignore_zones ?? []).map((z) => toPixels(z, width, height));
  // Nothing to drop: hand the detections through untouched (no copy on the common path).
  if (minAreaPx <= 0 && zones.length === 0) return (d) => d;
  return (d) =>
    selectDetections(d, (i) => {
      const w = d.xyxy[4 * i + 2]! - d.xyxy[4 * i]!;
      const h = d.xyxy[4 * i + 3]! - d.xyxy[4 * i + 1]!;
      if (w * h < minAreaPx) return false;
      const [x, y] = anchorPoint(d.xyxy, i, 'bottom_center');
      return !zones.some((z) => pointInPolygon(x, y, z));
    });
}
