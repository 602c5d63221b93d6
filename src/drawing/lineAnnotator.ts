/**
 * Counting lines: the segment in the line colour (one colour for every line, unlike any class colour, so a
 * line never reads as a box edge), a marker at each end, and a legend near one end saying which side is
 * which: from the line, an arrow to each side, tipped by "IN 12" on the in side and "OUT 7" on the other,
 * and the line's name just past that end.
 *
 * Direction convention (the rules engine counts the same way, src/rules/lineCrossing.ts): walking from
 * p1 to p2 on the IMAGE (x to the right, y DOWN), an object that crosses from the left-hand side to the
 * right-hand side counts as "in", the other way as "out". So the in side is the right-hand side, along
 * (-dy, dx) for d = p2 - p1: for p1 left of p2 on a horizontal line the "IN" arrow points down the
 * picture, so "in" is walking down across it. Each tag sits on the side an object ends up on.
 */
import { boxSizes, type BoxSizes, type BoxStyle } from './boxAnnotator.js';
import { loadGlyphAtlas, type GlyphAtlas } from './glyphAtlas.js';
import { colorOrDefault, makeClassColor, type ClassColor } from './palette.js';
import { drawSegment, fillDisc, fillPolygon } from './raster.js';
import { drawTag, tagWidth, TextCache } from './tag.js';
import { TagLayout } from './tagLayout.js';
import { BLACK, WHITE, type FramePixels } from './yuv.js';
import type { Point } from '../geometry.js';

/** One counting line as the drawing stage gets it, in pixels of the frame. */
export interface LineDrawing {
  readonly id: string;
  readonly name: string;
  readonly p1: Point;
  readonly p2: Point;
  /** Crossings left-to-right of p1→p2 (see the module comment). */
  readonly in: number;
  /** Crossings right-to-left of p1→p2. */
  readonly out: number;
  /** '#rrggbb'; default the style's line colour. */
  readonly color?: string;
}

export interface LineStyle extends Pick<BoxStyle, 'thickness' | 'textScale'> {
  showLabels?: boolean;
  /** '#rrggbb' of every line (segment, arrows, tags); default DEFAULT_LINE_COLOR. */
  color?: string;
}

export interface LineAnnotatorOptions {
  width: number;
  height: number;
  style?: LineStyle;
}

export interface LineAnnotator {
  readonly sizes: BoxSizes;
  /** Shapes then tags. */
  draw(frame: FramePixels, lines: readonly LineDrawing[]): void;
  /** Segments, end markers and arrows only (the scene lifts the tags above the boxes). */
  drawShapes(frame: FramePixels, lines: readonly LineDrawing[]): void;
  /** The legend and name tags, placed in `layout` (begun for this frame) when given. */
  drawLabels(frame: FramePixels, lines: readonly LineDrawing[], layout?: TagLayout): void;
}

/** White: no class colour of the palette is white, and it reads on grass, asphalt and shade alike (with its dark casing). */
export const DEFAULT_LINE_COLOR = '#FFFFFF';
/** Opacity of the dark casing drawn under the line and its arrows, so a white line stays visible on a white wall. */
const CASING_ALPHA = 0.55;

const count = (v: number): string => (Number.isFinite(v) ? String(Math.trunc(v)) : '-');
const inText = (_name: string, n: number): string => `IN ${count(n)}`;
const outText = (_name: string, n: number): string => `OUT ${count(n)}`;
const nameText = (name: string): string => name;

/** The unit right-hand normal of p1→p2 on the image (y down): (-dy, dx) / |d|. [0, 0] if degenerate. */
export function rightNormal(p1: Point, p2: Point, out: Float64Array): Float64Array {
  const dx = p2[0] - p1[0];
  const dy = p2[1] - p1[1];
  const len = Math.sqrt(dx * dx + dy * dy); // not Math.hypot: that builtin call boxes its arguments
  const ok = len > 0 && Number.isFinite(len);
  out[0] = ok ? -dy / len : 0;
  out[1] = ok ? dx / len : 0;
  return out;
}

/** Where a line's legend goes: see lineLegend. */
export interface LegendGeometry {
  /** The point on the segment the two arrows start from. */
  ax: number;
  ay: number;
  /** Unit normal towards the in side. */
  nx: number;
  ny: number;
  /** Centres of the "IN n" and "OUT n" tags. */
  inX: number;
  inY: number;
  outX: number;
  outY: number;
  /** The end the legend sits by: 2 for p2, 1 for p1, 0 for the midpoint (nothing fitted by an end). */
  end: 0 | 1 | 2;
}

/**
 * The legend of a line whose tags are wIn and wOut wide and h tall, `arrow` the arrows' length, `gap` the
 * space kept between things: near p2 (just inside the segment, so the name tag fits past the end), else
 * near p1, else at the midpoint, the first where both tags lie wholly in the W x H frame. Near an end,
 * not in the middle: a counting line spans a path, so its ends sit beside the traffic, not in it.
 * False when the line is degenerate.
 */
export function lineLegend(
  g: LegendGeometry, p1: Point, p2: Point, wIn: number, wOut: number, h: number, arrow: number, gap: number, W: number, H: number,
): boolean {
  const dx = p2[0] - p1[0];
  const dy = p2[1] - p1[1];
  const len = Math.sqrt(dx * dx + dy * dy);
  if (!(len > 0) || !Number.isFinite(len)) return false;
  const ux = dx / len;
  const uy = dy / len;
  const nx = -uy;
  const ny = ux;
  g.nx = nx;
  g.ny = ny;
  // Half-extents of a tag along the normal and along the line (the tags' corners never touch it).
  const halfIn = Math.abs(nx) * (wIn / 2) + Math.abs(ny) * (h / 2);
  const halfOut = Math.abs(nx) * (wOut / 2) + Math.abs(ny) * (h / 2);
  const back = Math.abs(ux) * (Math.max(wIn, wOut) / 2) + Math.abs(uy) * (h / 2) + gap;
  const inOff = arrow + gap + halfIn;
  const outOff = arrow + gap + halfOut;
  // By p2, by p1, then the midpoint (taken whatever fits); the ends only on a line long enough.
  for (let end = 2; end >= 0; end--) {
    if (end !== 0 && len < 3 * back) continue;
    const ax = end === 2 ? p2[0] - ux * back : end === 1 ? p1[0] + ux * back : (p1[0] + p2[0]) / 2;
    const ay = end === 2 ? p2[1] - uy * back : end === 1 ? p1[1] + uy * back : (p1[1] + p2[1]) / 2;
    g.ax = ax;
    g.ay = ay;
    g.inX = ax + nx * inOff;
    g.inY = ay + ny * inOff;
    g.outX = ax - nx * outOff;
    g.outY = ay - ny * outOff;
    g.end = end as 0 | 1 | 2;
    if (end === 0 || (inFrame(g.inX, g.inY, wIn, h, W, H) && inFrame(g.outX, g.outY, wOut, h, W, H))) break;
  }
  return true;
}

/** A w x h tag centred on (cx, cy) lies wholly inside the W x H frame. */
function inFrame(cx: number, cy: number, w: number, h: number, W: number, H: number): boolean {
  return cx - w / 2 >= 0 && cx + w / 2 <= W && cy - h / 2 >= 0 && cy + h / 2 <= H;
}

export async function createLineAnnotator(opts: LineAnnotatorOptions): Promise<LineAnnotator> {
  const style = opts.style ?? {};
  const sizes = boxSizes(opts.width, opts.height, style);
  const atlas: GlyphAtlas | undefined = (style.showLabels ?? true) ? await loadGlyphAtlas(sizes.textHeight) : undefined;
  const lineColor = makeClassColor(style.color ?? DEFAULT_LINE_COLOR);
  const ins = new TextCache(inText);
  const outs = new TextCache(outText);
  const names = new TextCache(nameText);
  const t = sizes.thickness;
  const casing = Math.max(1, Math.round(t / 2));
  const gap = 2 * t;
  // Arrows sized from the text so they read at every resolution: shaft and head each about half a tag.
  const shaft = Math.max(3 * t, Math.round(sizes.tagHeight * 0.6));
  const head = Math.max(3 * t, Math.round(sizes.tagHeight / 2));
  const h = sizes.tagHeight;
  const n = new Float64Array(2);
  const tri = new Float64Array(6);
  const cand = new Float64Array(8);
  const tag = new Int32Array(2);
  const g: LegendGeometry = { ax: 0, ay: 0, nx: 0, ny: 0, inX: 0, inY: 0, outX: 0, outY: 0, end: 0 };
  const ownLayout = new TagLayout();

  const finite = (l: LineDrawing): boolean =>
    Number.isFinite(l.p1[0]) && Number.isFinite(l.p1[1]) && Number.isFinite(l.p2[0]) && Number.isFinite(l.p2[1]);
  const colorOf = (l: LineDrawing): ClassColor => colorOrDefault(l.color, lineColor);

  /** The legend of l into g; without labels, the single "in" arrow at the midpoint. */
  const legendOf = (l: LineDrawing, W: number, H: number): boolean => {
    if (!atlas) {
      rightNormal(l.p1, l.p2, n);
      if (n[0] === 0 && n[1] === 0) return false;
      g.ax = (l.p1[0] + l.p2[0]) / 2;
      g.ay = (l.p1[1] + l.p2[1]) / 2;
      g.nx = n[0]!;
      g.ny = n[1]!;
      g.end = 0;
      return true;
    }
    const wIn = tagWidth(ins.get(l.id, l.name, l.in, 0).length, atlas, sizes);
    const wOut = tagWidth(outs.get(l.id, l.name, l.out, 0).length, atlas, sizes);
    return lineLegend(g, l.p1, l.p2, wIn, wOut, h, shaft + head, gap, W, H);
  };

  /** An arrow from (x, y) along (nx, ny): shaft then a head as wide as it is long. */
  const arrowFrom = (frame: FramePixels, x: number, y: number, nx: number, ny: number, width: number, c: ClassColor['fill'], alpha: number): void => {
    const bx = x + nx * shaft;
    const by = y + ny * shaft;
    drawSegment(frame, x, y, bx, by, width, c, alpha);
    const hw = head * 0.6 + (width - t) / 2;
    const hl = head + (width - t) / 2;
    tri[0] = bx + nx * hl;
    tri[1] = by + ny * hl;
    tri[2] = bx - ny * hw;
    tri[3] = by + nx * hw;
    tri[4] = bx + ny * hw;
    tri[5] = by - nx * hw;
    fillPolygon(frame, tri, 3, c, alpha);
  };

  const endMarker = (frame: FramePixels, x: number, y: number, c: ClassColor): void => {
    fillDisc(frame, x, y, 2 * t + casing, BLACK, CASING_ALPHA);
    fillDisc(frame, x, y, 2 * t, c.fill);
    fillDisc(frame, x, y, t, WHITE);
  };

  const drawShapes = (frame: FramePixels, lines: readonly LineDrawing[]): void => {
    for (const l of lines) {
      if (!finite(l)) continue;
      const [x1, y1] = l.p1;
      const [x2, y2] = l.p2;
      const c = colorOf(l);
      const hasLegend = legendOf(l, frame.width, frame.height);
      // Casing first (segment, arrows), then everything in colour over it.
      drawSegment(frame, x1, y1, x2, y2, t + 2 * casing, BLACK, CASING_ALPHA);
      if (hasLegend) {
        arrowFrom(frame, g.ax, g.ay, g.nx, g.ny, t + 2 * casing, BLACK, CASING_ALPHA);
        if (atlas) arrowFrom(frame, g.ax, g.ay, -g.nx, -g.ny, t + 2 * casing, BLACK, CASING_ALPHA);
      }
      drawSegment(frame, x1, y1, x2, y2, t, c.fill);
      // End markers: a disc in the line colour with a white core, ringed dark, visible on any background.
      endMarker(frame, x1, y1, c);
      endMarker(frame, x2, y2, c);
      if (!hasLegend) continue;
      arrowFrom(frame, g.ax, g.ay, g.nx, g.ny, t, c.fill, 1);
      if (atlas) arrowFrom(frame, g.ax, g.ay, -g.nx, -g.ny, t, c.fill, 1);
    }
  };

  const drawLabels = (frame: FramePixels, lines: readonly LineDrawing[], layout?: TagLayout): void => {
    if (!atlas) return;
    const W = frame.width;
    const H = frame.height;
    const lay = layout ?? ownLayout;
    if (!layout) lay.begin(W, H);
    for (const l of lines) {
      if (!finite(l) || !legendOf(l, W, H)) continue;
      const c = colorOf(l);
      const tIn = ins.get(l.id, l.name, l.in, 0);
      const tOut = outs.get(l.id, l.name, l.out, 0);
      const wIn = tagWidth(tIn.length, atlas, sizes);
      const wOut = tagWidth(tOut.length, atlas, sizes);
      cand[0] = g.inX - wIn / 2;
      cand[1] = g.inY - h / 2;
      lay.place(cand, 1, wIn, h, tag);
      drawTag(frame, atlas, sizes, tIn, tag[0]!, tag[1]!, c);
      cand[0] = g.outX - wOut / 2;
      cand[1] = g.outY - h / 2;
      lay.place(cand, 1, wOut, h, tag);
      drawTag(frame, atlas, sizes, tOut, tag[0]!, tag[1]!, c);
      if (!l.name) continue;
      const tName = names.get(l.id, l.name, 0, 0);
      const w = tagWidth(tName.length, atlas, sizes);
      nameTagCorners(cand, l.p1, l.p2, w, h, gap + t);
      // Past the legend's end first (the legend and the name read as one block), then the other end.
      if (g.end === 1) swap(cand, 0, 1);
      lay.place(cand, 2, w, h, tag);
      drawTag(frame, atlas, sizes, tName, tag[0]!, tag[1]!, c);
    }
  };

  const draw = (frame: FramePixels, lines: readonly LineDrawing[]): void => {
    drawShapes(frame, lines);
    drawLabels(frame, lines);
  };

  return { sizes, draw, drawShapes, drawLabels };
}

/** Swap candidate pairs i and j of a flat x, y array. */
function swap(a: Float64Array, i: number, j: number): void {
  const x = a[2 * i]!;
  const y = a[2 * i + 1]!;
  a[2 * i] = a[2 * j]!;
  a[2 * i + 1] = a[2 * j + 1]!;
  a[2 * j] = x;
  a[2 * j + 1] = y;
}

/**
 * Top-left corners for a line's w x h name tag, into `out` (x, y pairs): just past p2 along the line,
 * then just past p1, each pushed out by the tag's half-extent along the line plus `gap` so the tag never
 * covers the end marker.
 */
export function nameTagCorners(out: Float64Array, p1: Point, p2: Point, w: number, h: number, gap: number): void {
  const dx = p2[0] - p1[0];
  const dy = p2[1] - p1[1];
  const len = Math.sqrt(dx * dx + dy * dy);
  const ux = len > 0 ? dx / len : 0;
  const uy = len > 0 ? dy / len : 0;
  const along = Math.abs(ux) * (w / 2) + Math.abs(uy) * (h / 2) + gap;
  out[0] = p2[0] + ux * along - w / 2;
  out[1] = p2[1] + uy * along - h / 2;
  out[2] = p1[0] - ux * along - w / 2;
  out[3] = p1[1] - uy * along - h / 2;
}
