/**
 * Zones: a light translucent fill so the picture stays visible under it, an opaque outline so the border
 * is exact, and a tag with the zone's name and live count ("door: 3"). A zone whose rule is triggered
 * (`active`) gets a doubled outline in the highlight colour, not a denser fill: a zone can cover a third
 * of the frame, and darkening all of it hid the very objects that triggered it.
 */
import { boxSizes, DEFAULT_HIGHLIGHT, type BoxSizes, type BoxStyle } from './boxAnnotator.js';
import { loadGlyphAtlas, type GlyphAtlas } from './glyphAtlas.js';
import { colorForId, colorOrDefault, makeClassColor, Palette } from './palette.js';
import { drawPolyline, fillPolygon } from './raster.js';
import { drawTag, tagWidth, TextCache } from './tag.js';
import { TagLayout } from './tagLayout.js';
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
  /** The zone's rule is triggered: drawn with a doubled outline in the highlight colour. */
  readonly active?: boolean;
}

export interface ZoneStyle extends Pick<BoxStyle, 'thickness' | 'textScale' | 'palette' | 'highlightColor'> {
  /** Fill opacity 0–1 of every zone, active or not. Default 0.12. */
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
  /** The tags, placed in `layout` (begun for this frame) when given so they avoid the frame's other tags. */
  drawLabels(frame: FramePixels, zones: readonly ZoneDrawing[], layout?: TagLayout): void;
}

export const DEFAULT_ZONE_OPACITY = 0.12;

const zoneText = (name: string, count: number): string => (Number.isNaN(count) ? name : `${name}: ${count}`);

export async function createZoneAnnotator(opts: ZoneAnnotatorOptions): Promise<ZoneAnnotator> {
  const style = opts.style ?? {};
  const sizes = boxSizes(opts.width, opts.height, style);
  const atlas: GlyphAtlas | undefined = (style.showLabels ?? true) ? await loadGlyphAtlas(sizes.textHeight) : undefined;
  const palette = new Palette(style.palette);
  const opacity = Math.min(1, Math.max(0, style.opacity ?? DEFAULT_ZONE_OPACITY));
  const highlight = makeClassColor(style.highlightColor ?? DEFAULT_HIGHLIGHT);
  const texts = new TextCache(zoneText);
  // Vertices are copied into one reused flat array per zone draw: nothing allocated per frame.
  let flat = new Float64Array(64);
  const tag = new Int32Array(2);
  const cand = new Float64Array(8);
  const ownLayout = new TagLayout();

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
      fillPolygon(frame, flat, n, c.fill, opacity);
    }
    for (const z of zones) {
      const n = flatten(z);
      if (n === 0) continue;
      const c = z.active ? highlight : colorOrDefault(z.color, colorForId(palette, z.id));
      drawPolyline(frame, flat, n, true, z.active ? 2 * sizes.thickness : sizes.thickness, c.fill);
    }
  };

  const drawLabels = (frame: FramePixels, zones: readonly ZoneDrawing[], layout?: TagLayout): void => {
    if (!atlas) return;
    const lay = layout ?? ownLayout;
    if (!layout) lay.begin(frame.width, frame.height);
    const h = sizes.tagHeight;
    for (const z of zones) {
      if (flatten(z) === 0) continue;
      const c = colorOrDefault(z.color, colorForId(palette, z.id));
      const count = z.count !== undefined && Number.isFinite(z.count) ? z.count : Number.NaN;
      const text = texts.get(z.id, z.name, count, 0);
      const top = topVertex(z);
      if (top < 0) continue;
      const w = tagWidth(text.length, atlas, sizes);
      // Sitting on the zone's highest vertex, centred on it, keeps the tag off the zone's contents
      // (the objects and their box tags) while clearly belonging to it; inside below it when there is
      // no room above (a zone touching the top of the frame), or under a tag that took that spot.
      const vx = z.polygon[top]![0] - w / 2;
      const vy = z.polygon[top]![1];
      let k = 0;
      for (let row = vy - h >= 0 ? -1 : 0; row <= 2; row++) {
        cand[2 * k] = vx;
        cand[2 * k + 1] = vy + row * h;
        k++;
      }
      lay.place(cand, k, w, h, tag);
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
