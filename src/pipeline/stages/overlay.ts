import type { RuleConfig } from '../../config/rules.js';
import type { RuleCounters } from '../../rules/index.js';
import type { LineDrawing } from '../../drawing/lineAnnotator.js';
import type { ZoneDrawing } from '../../drawing/zoneAnnotator.js';

export interface Overlay {
  zones: ZoneDrawing[];
  lines: LineDrawing[];
}

type Pt = readonly [number, number];
const px = (p: Pt, w: number, h: number): [number, number] => [p[0] * w, p[1] * h];

/** The zones and lines of the rules, in pixels, with their live counts (zones: objects inside; lines: in/out). */
export function overlayFromRules(rules: readonly RuleConfig[], counters: Record<string, RuleCounters> | undefined, w: number, h: number): Overlay {
  const zones: ZoneDrawing[] = [];
  const lines: LineDrawing[] = [];
  for (const r of rules) {
    const c = counters?.[r.id];
    if (r.type === 'line_crossing') {
      let nIn = 0;
      let nOut = 0;
      if (c?.type === 'line_crossing') {
        for (const v of Object.values(c.counts)) {
          nIn += v.in;
          nOut += v.out;
        }
      }
      lines.push({ id: r.id, name: r.name ?? r.id, p1: px(r.line[0], w, h), p2: px(r.line[1], w, h), in: nIn, out: nOut });
    } else {
      const occupancy = c && 'occupancy' in c ? c.occupancy : undefined;
      const active = c && 'active' in c ? c.active : undefined;
      zones.push({ id: r.id, name: r.name ?? r.id, polygon: r.zone.map((p) => px(p, w, h)), count: occupancy, active });
    }
  }
  return { zones, lines };
}
