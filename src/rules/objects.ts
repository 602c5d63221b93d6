/**
 * The objects a rule looks at on one frame: tracked detections that pass the rule's class and confidence
 * filters, each reduced to its anchor point. Untracked detections (track id -1) never reach a rule: without an
 * identity there is nothing to count once (supervision#2578).
 */
import type { Detections } from '../detections.js';
import type { Anchor, RuleConfig } from '../config/rules.js';
import { anchorPoint } from '../geometry.js';

export interface Observed {
  trackId: number;
  classId: number;
  /** Anchor point, pixels. */
  x: number;
  y: number;
  /** Box, pixels xyxy. */
  box: [number, number, number, number];
}

export interface ObjectFilter {
  /** null = every class. */
  classIds: ReadonlySet<number> | null;
  minConfidence: number;
  anchor: Anchor;
}

export function objectFilter(rule: RuleConfig, labels: readonly string[]): ObjectFilter {
  const wanted = new Set(rule.classes);
  const classIds = rule.classes.length === 0 ? null : new Set(labels.flatMap((name, id) => (wanted.has(name) ? [id] : [])));
  return { classIds, minConfidence: rule.min_confidence, anchor: rule.anchor };
}

export function observe(d: Detections, f: ObjectFilter): Observed[] {
  const out: Observed[] = [];
  for (let i = 0; i < d.count; i++) {
    const trackId = d.trackId[i]!;
    const classId = d.classId[i]!;
    if (trackId < 0 || d.confidence[i]! < f.minConfidence) continue;
    if (f.classIds && !f.classIds.has(classId)) continue;
    const [x, y] = anchorPoint(d.xyxy, i, f.anchor);
    out.push({ trackId, classId, x, y, box: [d.xyxy[4 * i]!, d.xyxy[4 * i + 1]!, d.xyxy[4 * i + 2]!, d.xyxy[4 * i + 3]!] });
  }
  return out;
}
