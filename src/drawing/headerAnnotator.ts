/**
 * A small bar at the top-left naming what is on screen: run name, source time, frame rate. A
 * translucent dark background keeps white text legible over sky or snow without hiding the picture.
 */
import { boxSizes, type BoxSizes, type BoxStyle } from './boxAnnotator.js';
import { loadGlyphAtlas } from './glyphAtlas.js';
import { blendRect, BLACK, WHITE, type FramePixels } from './yuv.js';

export interface HeaderInfo {
  /** Usually the run's name. */
  readonly title?: string;
  /** Presentation time in the source, seconds: shown as HH:MM:SS.mmm. */
  readonly ptsS?: number;
  /** Wall clock of the frame (ms since epoch): shown as ISO 8601 UTC instead of the pts when given. */
  readonly wallTimeMs?: number;
  /** Frames per second to show (measured by the caller). */
  readonly fps?: number;
}

export interface HeaderAnnotator {
  readonly sizes: BoxSizes;
  /** Draw the bar; returns its width in pixels (0 when there was nothing to show). */
  draw(frame: FramePixels, info: HeaderInfo): number;
  /** The width the bar will have for `info` (so other tags can keep clear of it). */
  width(info: HeaderInfo): number;
}

const BAR_ALPHA = 0.6;
const pad2 = (v: number): string => (v < 10 ? `0${v}` : String(v));

/** Seconds as HH:MM:SS.mmm (hours grow past 99 rather than wrap); "--:--:--.---" when unknown. */
export function formatPts(ptsS: number): string {
  if (!Number.isFinite(ptsS) || ptsS < 0) return '--:--:--.---';
  const totalMs = Math.round(ptsS * 1000);
  const ms = totalMs % 1000;
  const s = Math.floor(totalMs / 1000);
  return `${pad2(Math.floor(s / 3600))}:${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)}.${String(ms).padStart(3, '0')}`;
}

/** The one line the bar shows: parts that are present, two spaces apart. */
export function headerText(info: HeaderInfo): string {
  const parts: string[] = [];
  if (info.title) parts.push(info.title);
  if (info.wallTimeMs !== undefined && Number.isFinite(info.wallTimeMs)) parts.push(new Date(info.wallTimeMs).toISOString());
  else if (info.ptsS !== undefined) parts.push(formatPts(info.ptsS));
  if (info.fps !== undefined && Number.isFinite(info.fps)) parts.push(`${info.fps.toFixed(1)} fps`);
  return parts.join('  ');
}

export async function createHeaderAnnotator(opts: { width: number; height: number; style?: Pick<BoxStyle, 'textScale'> }): Promise<HeaderAnnotator> {
  const sizes = boxSizes(opts.width, opts.height, opts.style);
  const atlas = await loadGlyphAtlas(sizes.textHeight);
  const barWidth = (chars: number): number => (chars === 0 ? 0 : Math.min(opts.width, Math.ceil((chars * atlas.cellWidth + 2 * sizes.padding) / 2) * 2));
  const width = (info: HeaderInfo): number => barWidth(headerText(info).length);
  const draw = (frame: FramePixels, info: HeaderInfo): number => {
    // The time changes every frame, so this one short string per frame is the header's whole cost.
    const text = headerText(info);
    if (!text) return 0;
    const w = Math.min(frame.width, barWidth(text.length));
    const h = Math.min(frame.height, sizes.tagHeight);
    blendRect(frame, 0, 0, w, h, BLACK, BAR_ALPHA);
    atlas.drawText(frame, text, sizes.padding, (h - sizes.textHeight) >> 1, WHITE, true);
    return w;
  };
  return { sizes, draw, width };
}
