/**
 * Boxes and label tags drawn straight into the yuv420p frame. Everything that costs (glyph atlas,
 * colours, label strings, sizes) is prepared in the async factory; draw() only fills rectangles and
 * blends cached glyph masks, and allocates nothing for known classes.
 */
import { makeDetections, type Detections } from '../detections.js';
import { yuv420pSize } from '../frame.js';
import { loadGlyphAtlas, type GlyphAtlas } from './glyphAtlas.js';
import { makeClassColor, Palette, type ClassColor } from './palette.js';
import { boxTagCandidates, TagLayout } from './tagLayout.js';
import { blendRect, fillRect, strokeRect, type FramePixels } from './yuv.js';

export interface BoxStyle {
  /** Outline width in pixels; default scales with resolution (even, so chroma edges stay crisp). */
  thickness?: number;
  /** Multiplier on the default text height (h/40, at least 12 px). */
  textScale?: number;
  showLabels?: boolean;
  showConfidence?: boolean;
  /** Prefix the tag with the track id ("#12 person 0.87") for tracked detections; default true. */
  showTrackIds?: boolean;
  /** '#rrggbb' tint laid over highlighted boxes (objects that triggered a rule); default red. */
  highlightColor?: string;
  /** '#rrggbb' colours indexed by class id; default supervision's palette. */
  palette?: readonly string[];
}

export interface BoxAnnotatorOptions {
  width: number;
  height: number;
  /** Class names indexed by class id (the model's labels). */
  labels: readonly string[];
  style?: BoxStyle;
}

/** Resolved sizes, exposed so callers and tests can reason about what draw() touches. */
export interface BoxSizes {
  readonly thickness: number;
  /** Height of one text line (the glyph atlas cell). */
  readonly textHeight: number;
  readonly padding: number;
  readonly tagHeight: number;
}

export interface BoxMetrics extends BoxSizes {
  /** Advance per character of the label font; 0 when labels are off. */
  readonly charWidth: number;
}

export interface BoxAnnotator {
  readonly metrics: BoxMetrics;
  /**
   * Boxes and tags of `detections`. Those whose track id is in `highlighted` get a doubled outline and a
   * translucent tint in the highlight colour, so a rule's culprit stands out in a crowd.
   */
  draw(frame: FramePixels, detections: Detections, highlighted?: ReadonlySet<number>): void;
  /** Outlines and tints only (the scene lays out every tag of the frame together, after the shapes). */
  drawBoxes(frame: FramePixels, detections: Detections, highlighted?: ReadonlySet<number>): void;
  /**
   * The label tags, placed in `layout` (begun for this frame, holding the tags placed before) so that
   * none covers another: highlighted objects first, then by score, then in detection order.
   */
  drawTags(frame: FramePixels, detections: Detections, layout: TagLayout, highlighted?: ReadonlySet<number>): void;
}

export const DEFAULT_HIGHLIGHT = '#FF0000';
const HIGHLIGHT_ALPHA = 0.3;
/** Track id strings kept for reuse; cleared wholesale past this (ids only grow over a long run). */
const TRACK_TEXT_CACHE = 4096;
/** Tracks whose last tag spot is remembered (so a tag stays put while its object moves); cleared past this. */
const TAG_SPOT_CACHE = 4096;

const evenDown = (v: number): number => Math.floor(v / 2) * 2;
const evenUp = (v: number): number => Math.ceil(v / 2) * 2;

/** Sizes for a frame: line and text grow with resolution so 4K labels are as legible as 720p ones. */
export function boxSizes(width: number, height: number, style: BoxStyle = {}): BoxSizes {
  const thickness = style.thickness !== undefined
    ? Math.max(1, Math.round(style.thickness))
    : evenUp(Math.max(2, Math.round(Math.min(width, height) / 360)));
  const textHeight = Math.max(12, Math.round((height / 40) * (style.textScale ?? 1)));
  const padding = Math.max(2, Math.round(textHeight * 0.2));
  return { thickness, textHeight, padding, tagHeight: evenUp(textHeight + 2 * padding) };
}

export async function createBoxAnnotator(opts: BoxAnnotatorOptions): Promise<BoxAnnotator> {
  const style = opts.style ?? {};
  const showLabels = style.showLabels ?? true;
  const showConfidence = style.showConfidence ?? true;
  const showTrackIds = style.showTrackIds ?? true;
  const highlight = makeClassColor(style.highlightColor ?? DEFAULT_HIGHLIGHT).fill;
  const palette = new Palette(style.palette);
  const sizes = boxSizes(opts.width, opts.height, style);
  const atlas: GlyphAtlas | undefined = showLabels ? await loadGlyphAtlas(sizes.textHeight) : undefined;
  const m: BoxMetrics = { ...sizes, charWidth: atlas?.cellWidth ?? 0 };

  const colors: ClassColor[] = opts.labels.map((_, i) => palette.forClass(i));
  const names: string[] = [...opts.labels];
  // "0.00" … "1.00": the confidence text is looked up, never formatted per frame.
  const confText: string[] = Array.from({ length: 101 }, (_, i) => (i / 100).toFixed(2));
  const tag = new Int32Array(2);
  const trackText = new Map<number, string>();
  const trackTextOf = (id: number): string => {
    let s = trackText.get(id);
    if (s === undefined) {
      if (trackText.size >= TRACK_TEXT_CACHE) trackText.clear();
      s = `#${id}`;
      trackText.set(id, s);
    }
    return s;
  };

  const colorOf = (id: number): ClassColor => (id >= 0 && id < colors.length ? colors[id]! : palette.forClass(id));
  const nameOf = (id: number): string => {
    // Unknown ids (labels file shorter than the model's head) get a stable name, built once.
    if (id >= 0 && id < names.length && names[id] !== undefined) return names[id]!;
    const name = `class ${id}`;
    if (id >= 0 && id < 100_000) names[id] = name;
    return name;
  };

  const box = new Int32Array(4);
  /** Box i's corners into `box`, snapped outward to even pixels so 2x2 chroma blocks match luma edges. */
  const boxAt = (d: Detections, i: number): boolean => {
    const x1 = d.xyxy[4 * i]!;
    const y1 = d.xyxy[4 * i + 1]!;
    const x2 = d.xyxy[4 * i + 2]!;
    const y2 = d.xyxy[4 * i + 3]!;
    if (!(Number.isFinite(x1) && Number.isFinite(y1) && Number.isFinite(x2) && Number.isFinite(y2))) return false;
    // Clamped far outside the frame first so a wild coordinate cannot overflow the Int32Array.
    const lim = 1 << 20;
    box[0] = evenDown(Math.max(-lim, Math.min(x1, x2)));
    box[1] = evenDown(Math.max(-lim, Math.min(y1, y2)));
    box[2] = evenUp(Math.min(lim, Math.max(x1, x2)));
    box[3] = evenUp(Math.min(lim, Math.max(y1, y2)));
    return true;
  };

  const isHighlighted = (d: Detections, i: number, hl: ReadonlySet<number> | undefined): boolean =>
    hl !== undefined && hl.size > 0 && d.trackId[i]! >= 0 && hl.has(d.trackId[i]!);

  const drawBoxes = (frame: FramePixels, d: Detections, highlighted?: ReadonlySet<number>): void => {
    // Tints first (under every outline), then boxes; tags come after every shape of the frame, so a
    // neighbour's outline never cuts through a label.
    for (let i = 0; i < d.count; i++) {
      if (!isHighlighted(d, i, highlighted) || !boxAt(d, i)) continue;
      blendRect(frame, box[0]!, box[1]!, box[2]! - box[0]!, box[3]! - box[1]!, highlight, HIGHLIGHT_ALPHA);
    }
    for (let i = 0; i < d.count; i++) {
      if (!boxAt(d, i)) continue;
      const t = isHighlighted(d, i, highlighted) ? 2 * m.thickness : m.thickness;
      strokeRect(frame, box[0]!, box[1]!, box[2]!, box[3]!, t, colorOf(d.classId[i]!).fill);
    }
  };

  // Per-frame scratch for the tags, grown to the most detections a frame ever had: placing order, and
  // each tag's spot and width (0 = no tag).
  let order = new Int32Array(64);
  let tagX = new Int32Array(64);
  let tagY = new Int32Array(64);
  let tagW = new Int32Array(64);
  const cand = new Float64Array(16);
  const lastSpot = new Map<number, number>();

  const confIndex = (conf: number): number => Math.min(100, Math.max(0, Math.round(conf * 100)));
  /** Placing rank: highlighted objects first, then higher scores; equal ranks keep detection order. */
  const rankOf = (d: Detections, i: number, hl: ReadonlySet<number> | undefined): number => {
    const c = d.confidence[i]!;
    return (isHighlighted(d, i, hl) ? 2 : 0) + (Number.isFinite(c) ? Math.min(1, Math.max(0, c)) : 0);
  };

  const drawTags = (frame: FramePixels, d: Detections, layout: TagLayout, highlighted?: ReadonlySet<number>): void => {
    if (!atlas) return;
    const W = frame.width;
    const H = frame.height;
    const cw = atlas.cellWidth;
    if (order.length < d.count) {
      const n = 2 * d.count;
      order = new Int32Array(n);
      tagX = new Int32Array(n);
      tagY = new Int32Array(n);
      tagW = new Int32Array(n);
    }
    // Tags of objects in the picture, ordered by rank (insertion sort: stable, allocation-free, and a
    // frame holds tens of boxes, rarely a few hundred).
    let n = 0;
    for (let i = 0; i < d.count; i++) {
      tagW[i] = 0;
      if (!boxAt(d, i) || box[2]! <= 0 || box[3]! <= 0 || box[0]! >= W || box[1]! >= H) continue; // not in the picture
      const r = rankOf(d, i, highlighted);
      let k = n++;
      while (k > 0 && rankOf(d, order[k - 1]!, highlighted) < r) {
        order[k] = order[k - 1]!;
        k--;
      }
      order[k] = i;
    }
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      boxAt(d, i);
      const conf = d.confidence[i]!;
      const tid = d.trackId[i]!;
      const idLen = showTrackIds && tid >= 0 ? trackTextOf(tid).length + 1 : 0;
      const confLen = showConfidence && Number.isFinite(conf) ? 1 + confText[confIndex(conf)]!.length : 0;
      const w = evenUp((idLen + nameOf(d.classId[i]!).length + confLen) * cw + 2 * m.padding);
      const nc = boxTagCandidates(cand, box[0]!, box[1]!, box[2]!, box[3]!, w, m.tagHeight);
      const spot = layout.place(cand, nc, w, m.tagHeight, tag, tid >= 0 ? (lastSpot.get(tid) ?? -1) : -1);
      if (tid >= 0 && lastSpot.get(tid) !== spot) {
        if (lastSpot.size >= TAG_SPOT_CACHE) lastSpot.clear();
        lastSpot.set(tid, spot);
      }
      tagX[i] = tag[0]!;
      tagY[i] = tag[1]!;
      tagW[i] = w;
    }
    // Drawn in reverse placing order: where the layout had to let two tags overlap, the more important
    // one ends up on top.
    for (let k = n - 1; k >= 0; k--) {
      const i = order[k]!;
      const id = d.classId[i]!;
      const color = colorOf(id);
      const name = nameOf(id);
      const conf = d.confidence[i]!;
      const confStr = showConfidence && Number.isFinite(conf) ? confText[confIndex(conf)]! : '';
      const tid = d.trackId[i]!;
      const idStr = showTrackIds && tid >= 0 ? trackTextOf(tid) : '';
      const nameAt = idStr ? idStr.length + 1 : 0;
      const tx = tagX[i]!;
      const ty = tagY[i]!;
      fillRect(frame, tx, ty, tagW[i]!, m.tagHeight, color.fill);
      const textY = ty + ((m.tagHeight - m.textHeight) >> 1);
      // Id, name and confidence as separate runs instead of one concatenated string: no garbage per frame.
      if (idStr) atlas.drawText(frame, idStr, tx + m.padding, textY, color.text);
      atlas.drawText(frame, name, tx + m.padding + nameAt * cw, textY, color.text);
      if (confStr) atlas.drawText(frame, confStr, tx + m.padding + (nameAt + name.length + 1) * cw, textY, color.text);
    }
  };

  const ownLayout = new TagLayout();
  const draw = (frame: FramePixels, d: Detections, highlighted?: ReadonlySet<number>): void => {
    drawBoxes(frame, d, highlighted);
    ownLayout.begin(frame.width, frame.height);
    drawTags(frame, d, ownLayout, highlighted);
  };

  // Run the drawing code a few times on a scratch frame so the JIT has compiled it before the first
  // real frame: cold, the first 1080p draw took ~11 ms against ~0.3 ms warm.
  const scratchW = 2 * m.tagHeight + 64;
  const scratch = { pixels: Buffer.alloc(yuv420pSize({ width: scratchW, height: scratchW })), width: scratchW, height: scratchW };
  const warmDets = makeDetections({
    xyxy: Float32Array.of(3, m.tagHeight + 3, scratchW - 3, scratchW - 3),
    confidence: Float32Array.of(0.5),
    classId: Int32Array.of(0),
    trackId: Int32Array.of(7),
  });
  const warmHighlight = new Set([7]);
  for (let i = 0; i < 100; i++) draw(scratch, warmDets, i % 2 === 0 ? warmHighlight : undefined);

  return { metrics: m, draw, drawBoxes, drawTags };
}
