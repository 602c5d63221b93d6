/**
 * Zones: a translucent fill so the picture stays visible under it, an opaque outline so the border is
 * exact, and a tag with the zone's name and live count ("door: 3"). A zone whose rule is triggered
 * (`active`) is drawn stronger: denser fill, doubled outline.
 */
import { boxSizes, placeTag, type BoxSizes, type BoxStyle } from './boxAnnotator.js';
import { loadGlyphAtlas, type GlyphAtlas } from './glyphAtlas.js';
import { colorForId, colorOrDefault, Palette } from './palette.js';
import { drawPolyline, fillPolygon } from './raster.js';
import { drawTag, tagWidth, TextCache } from './tag.js';
import type { FramePixels } from './yuv.js';

/** One zone as the drawing stage gets it, in pixels of the frame. */
export interface ZoneDrawing {
  readonly id: string;
  readonly name: string;
  /** Vertices [x, y] in frame pixels, in order; closed implicitly. At least 3 to be drawn. */
  readonly polygon: readonly (readonly [number, number])[];
  /** '#rrggbb'; default a palette colour chosen by id (stable across frames and configs). */
  readonly color?: string;
  /** Objects inside now; shown as "name: count". Omitted: the tag shows the name only. */
  readonly count?: number;
  /** The zone's rule is triggered: drawn with a denser fill and a doubled outline. */
  readonly active?: boolean;
}

export interface ZoneStyle extends Pick<BoxStyle, 'thickness' | 'textScale' | 'palette'> {
  /** Fill opacity 0–1 of an idle zone; an active one gets twice this (at most 0.6). Default 0.25. */
  opacity?: number;
  /** Draw the name/count tags; default true. */
  showLabels?: boolean;
}

export interface ZoneAnnotatorOptions {
  width: number;
  height: number;
  style?: ZoneStyle;
}

export interface ZoneAnnotator {
  readonly sizes: BoxSizes;
  /** Shapes then tags. */
  draw(frame: FramePixels, zones: readonly ZoneDrawing[]): void;
  /** Fills and outlines only (the scene lifts the tags above the boxes). */
  drawShapes(frame: FramePixels, zones: readonly ZoneDrawing[]): void;
  drawLabels(frame: FramePixels, zones: readonly ZoneDrawing[]): void;
}

export const DEFAULT_ZONE_OPACITY = 0.25;

const zoneText = (name: string, count: number): string => (Number.isNaN(count) ? name : `${name}: ${count}`);

export async function createZoneAnnotator(opts: ZoneAnnotatorOptions): Promise<ZoneAnnotator> {
  const style = opts.style ?? {};
  const sizes = boxSizes(opts.width, opts.height, style);
  const atlas: GlyphAtlas | undefined = (style.showLabels ?? true) ? await loadGlyphAtlas(sizes.textHeight) : undefined;
  const palette = new Palette(style.palette);
  const opacity = Math.min(1, Math.max(0, style.opacity ?? DEFAULT_ZONE_OPACITY));
  const activeOpacity = Math.max(opacity, Math.min(0.6, 2 * opacity));
  const texts = new TextCache(zoneText);
  // Vertices are copied into one reused flat array per zone draw: nothing allocated per frame.
  let flat = new Float64Array(64);
  const tag = new Int32Array(2);

  /** Flatten zone z into `flat`; returns its vertex count, 0 when unusable. */
  const flatten = (z: ZoneDrawing): number => {
    const n = z.polygon.length;
    if (n < 3) return 0;
    if (flat.length < 2 * n) flat = new Float64Array(4 * n);
    for (let i = 0; i < n; i++) {
      const v = z.polygon[i]!;
      flat[2 * i] = v[0];
      flat[2 * i + 1] = v[1];
    }
    return n;
  };

  const drawShapes = (frame: FramePixels, zones: readonly ZoneDrawing[]): void => {
    // Fills, then outlines (then tags): a neighbour's fill never dulls an outline or a tag.
    for (const z of zones) {
      const n = flatten(z);
      if (n === 0) continue;
      const c = colorOrDefault(z.color, colorForId(palette, z.id));
      fillPolygon(frame, flat, n, c.fill, z.active ? activeOpacity : opacity);
    }
    for (const z of zones) {
      const n = flatten(z);
      if (n === 0) continue;
      const c = colorOrDefault(z.color, colorForId(palette, z.id));
      drawPolyline(frame, flat, n, true, z.active ? 2 * sizes.thickness : sizes.thickness, c.fill);
    }
  };

  const drawLabels = (frame: FramePixels, zones: readonly ZoneDrawing[]): void => {
    if (!atlas) return;
    for (const z of zones) {
      if (flatten(z) === 0) continue;
      const c = colorOrDefault(z.color, colorForId(palette, z.id));
      const count = z.count !== undefined && Number.isFinite(z.count) ? z.count : Number.NaN;
      const text = texts.get(z.id, z.name, count, 0);
      const top = topVertex(z);
      if (top < 0) continue;
      const w = tagWidth(text.length, atlas, sizes);
      // Sitting on the zone's highest vertex, centred on it, keeps the tag off the zone's contents
      // (the objects and their box tags) while clearly belonging to it.
      placeTag(tag, z.polygon[top]![0] - w / 2, z.polygon[top]![1], w, sizes.tagHeight, frame.width, frame.height);
      drawTag(frame, atlas, sizes, text, tag[0]!, tag[1]!, c);
    }
  };

  const draw = (frame: FramePixels, zones: readonly ZoneDrawing[]): void => {
    drawShapes(frame, zones);
    drawLabels(frame, zones);
  };

  return { sizes, draw, drawShapes, drawLabels };
}

/** Index of the vertex with the smallest y (the first of equals), -1 if a coordinate is not finite. */
function topVertex(z: ZoneDrawing): number {
  let best = -1;
  let bestY = Infinity;
  for (let i = 0; i < z.polygon.length; i++) {
    const [x, y] = z.polygon[i]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) return -1;
    if (y < bestY) {
      bestY = y;
      best = i;
    }
  }
  return best;
}
