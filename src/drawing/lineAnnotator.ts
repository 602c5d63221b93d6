/**
 * Counting lines: the segment, a marker at each end, an arrow showing which way counts as "in", and a
 * tag with the totals ("entrance  in 12  out 7").
 *
 * Direction convention (the rules engine counts the same way): walking from p1 to p2 on the IMAGE
 * (x to the right, y DOWN), an object that crosses from the left-hand side to the right-hand side
 * counts as "in", the other way as "out". The arrow starts at the segment's midpoint and points to the
 * right-hand side, i.e. along (-dy, dx) for d = p2 - p1: for p1 left of p2 on a horizontal line the
 * arrow points down the picture, so "in" is walking down across it.
 */
import { boxSizes, type BoxSizes, type BoxStyle } from './boxAnnotator.js';
import { loadGlyphAtlas, type GlyphAtlas } from './glyphAtlas.js';
import { colorForId, colorOrDefault, Palette } from './palette.js';
import { drawSegment, fillDisc, fillPolygon } from './raster.js';
import { drawTag, tagWidth, TextCache } from './tag.js';
import { WHITE, type FramePixels } from './yuv.js';
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
  /** '#rrggbb'; default a palette colour chosen by id. */
  readonly color?: string;
}

export interface LineStyle extends Pick<BoxStyle, 'thickness' | 'textScale' | 'palette'> {
  showLabels?: boolean;
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
  drawLabels(frame: FramePixels, lines: readonly LineDrawing[]): void;
}

const count = (v: number): string => (Number.isFinite(v) ? String(Math.trunc(v)) : '-');
const lineText = (name: string, inCount: number, outCount: number): string =>
  `${name}  in ${count(inCount)}  out ${count(outCount)}`;

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

export async function createLineAnnotator(opts: LineAnnotatorOptions): Promise<LineAnnotator> {
  const style = opts.style ?? {};
  const sizes = boxSizes(opts.width, opts.height, style);
  const atlas: GlyphAtlas | undefined = (style.showLabels ?? true) ? await loadGlyphAtlas(sizes.textHeight) : undefined;
  const palette = new Palette(style.palette);
  const texts = new TextCache(lineText);
  const t = sizes.thickness;
  // Arrow sized from the text so it reads at every resolution: shaft one tag tall, head half that.
  const shaft = Math.max(4 * t, sizes.tagHeight);
  const head = Math.max(3 * t, Math.round(sizes.tagHeight / 2));
  const n = new Float64Array(2);
  const tri = new Float64Array(6);
  const cand = new Float64Array(8);

  const drawShapes = (frame: FramePixels, lines: readonly LineDrawing[]): void => {
    for (const l of lines) {
      const [x1, y1] = l.p1;
      const [x2, y2] = l.p2;
      if (!(Number.isFinite(x1) && Number.isFinite(y1) && Number.isFinite(x2) && Number.isFinite(y2))) continue;
      const c = colorOrDefault(l.color, colorForId(palette, l.id));
      drawSegment(frame, x1, y1, x2, y2, t, c.fill);
      // End markers: a disc in the line colour with a white core, visible on any background.
      fillDisc(frame, x1, y1, 2 * t, c.fill);
      fillDisc(frame, x1, y1, t, WHITE);
      fillDisc(frame, x2, y2, 2 * t, c.fill);
      fillDisc(frame, x2, y2, t, WHITE);
      rightNormal(l.p1, l.p2, n);
      const nx = n[0]!;
      const ny = n[1]!;
      if (nx === 0 && ny === 0) continue;
      const mx = (x1 + x2) / 2;
      const my = (y1 + y2) / 2;
      drawSegment(frame, mx, my, mx + nx * shaft, my + ny * shaft, t, c.fill);
      // Head: tip one head-length beyond the shaft, base as wide as the head is long.
      const bx = mx + nx * shaft;
      const by = my + ny * shaft;
      tri[0] = bx + nx * head;
      tri[1] = by + ny * head;
      tri[2] = bx - ny * head * 0.6;
      tri[3] = by + nx * head * 0.6;
      tri[4] = bx + ny * head * 0.6;
      tri[5] = by - nx * head * 0.6;
      fillPolygon(frame, tri, 3, c.fill);
    }
  };

  const drawLabels = (frame: FramePixels, lines: readonly LineDrawing[]): void => {
    if (!atlas) return;
    const W = frame.width;
    const H = frame.height;
    for (const l of lines) {
      const [x1, y1] = l.p1;
      const [x2, y2] = l.p2;
      if (!(Number.isFinite(x1) && Number.isFinite(y1) && Number.isFinite(x2) && Number.isFinite(y2))) continue;
      const c = colorOrDefault(l.color, colorForId(palette, l.id));
      const text = texts.get(l.id, l.name, l.in, l.out);
      const w = tagWidth(text.length, atlas, sizes);
      const h = sizes.tagHeight;
      placeLineTag(cand, l.p1, l.p2, w, h, 3 * t, shaft + head, n);
      // The first candidate that lies wholly in the frame; if none does, the first, clamped.
      let k = 0;
      while (k < 4 && !fits(cand[2 * k]!, cand[2 * k + 1]!, w, h, W, H)) k++;
      if (k === 4) k = 0;
      const cx = cand[2 * k]!;
      const cy = cand[2 * k + 1]!;
      const tx = Math.max(0, Math.min(W - w, Math.round(cx - w / 2))) & ~1;
      const ty = Math.max(0, Math.min(H - h, Math.round(cy - h / 2))) & ~1;
      drawTag(frame, atlas, sizes, text, tx, ty, c);
    }
  };

  const draw = (frame: FramePixels, lines: readonly LineDrawing[]): void => {
    drawShapes(frame, lines);
    drawLabels(frame, lines);
  };

  return { sizes, draw, drawShapes, drawLabels };
}

/**
 * Candidate centres for a line's w x h tag, best first, into `out` (x, y pairs): beyond p2 and beyond
 * p1 along the line (a counting line spans a path, so its ends sit beside the traffic, not in it), then
 * beside the midpoint on the "out" side, then past the arrow's tip. Each is pushed out by the tag's
 * half-extent along that direction plus `gap`, so a tag never straddles the line, markers or arrow.
 */
export function placeLineTag(out: Float64Array, p1: Point, p2: Point, w: number, h: number, gap: number, arrow: number, n: Float64Array): void {
  rightNormal(p1, p2, n);
  const nx = n[0]!;
  const ny = n[1]!;
  // Direction p1→p2 is the normal turned back: d = (ny, -nx).
  const dx = ny;
  const dy = -nx;
  const alongD = Math.abs(dx) * (w / 2) + Math.abs(dy) * (h / 2) + gap;
  const alongN = Math.abs(nx) * (w / 2) + Math.abs(ny) * (h / 2) + gap;
  const mx = (p1[0] + p2[0]) / 2;
  const my = (p1[1] + p2[1]) / 2;
  out[0] = p2[0] + dx * alongD;
  out[1] = p2[1] + dy * alongD;
  out[2] = p1[0] - dx * alongD;
  out[3] = p1[1] - dy * alongD;
  out[4] = mx - nx * alongN;
  out[5] = my - ny * alongN;
  out[6] = mx + nx * (alongN + arrow);
  out[7] = my + ny * (alongN + arrow);
}

/** A w x h tag centred on (cx, cy) lies wholly inside the frame. */
function fits(cx: number, cy: number, w: number, h: number, W: number, H: number): boolean {
  return cx - w / 2 >= 0 && cx + w / 2 <= W && cy - h / 2 >= 0 && cy + h / 2 <= H;
}
