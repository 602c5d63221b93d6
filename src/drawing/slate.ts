/**
 * The picture the publisher keeps sending while the source is gone: the last frame darkened, with
 * centred text ("SIGNAL LOST", "12 s"). Viewers see at once that the stream is alive but the camera
 * is not, instead of a frozen picture that looks live.
 */
import type { FrameGeometry } from '../frame.js';
import { loadGlyphAtlas, peekGlyphAtlas, type GlyphAtlas } from './glyphAtlas.js';
import { blendRect, BLACK, dimFrame, WHITE, type FramePixels } from './yuv.js';

export interface SlateFonts {
  /** First line (the headline). */
  readonly title: GlyphAtlas;
  /** Every further line. */
  readonly body: GlyphAtlas;
}

export interface SlateOptions {
  /** Brightness left in the picture, 0–1. */
  dim?: number;
  /** Atlases to write with; default the ones prepareSlate() built for this frame size. */
  fonts?: SlateFonts;
}

const DEFAULT_DIM = 0.35;
const evenDown = (v: number): number => Math.floor(v / 2) * 2;

/** Text sizes for a frame: a headline readable on a phone, the rest smaller. */
export function slateTextHeights(g: FrameGeometry): { title: number; body: number } {
  return { title: Math.max(16, Math.round(g.height / 12)), body: Math.max(12, Math.round(g.height / 20)) };
}

/**
 * Build (once, cached) the fonts drawSlate needs for this frame size. The publisher awaits this at
 * start so its very first slate already has text; drawSlate itself must stay synchronous.
 */
export async function prepareSlate(g: FrameGeometry): Promise<SlateFonts> {
  const h = slateTextHeights(g);
  const [title, body] = await Promise.all([loadGlyphAtlas(h.title), loadGlyphAtlas(h.body)]);
  return { title, body };
}

function readyFonts(g: FrameGeometry): SlateFonts | undefined {
  const h = slateTextHeights(g);
  const title = peekGlyphAtlas(h.title);
  const body = peekGlyphAtlas(h.body);
  return title && body ? { title, body } : undefined;
}

/**
 * In place: dim the picture, lay a dark band behind the text block, write each line centred.
 * Darkening compounds, so pass a fresh copy of the last picture each time. Returns false when the
 * fonts were not prepared yet: the picture is then only dimmed and a build is started, so a later
 * call (the publisher redraws every second) gets text.
 */
export function drawSlate(frame: FramePixels, lines: readonly string[], opts: SlateOptions = {}): boolean {
  const { width: W, height: H } = frame;
  dimFrame(frame.pixels, W, H, opts.dim ?? DEFAULT_DIM);
  if (lines.length === 0) return true;
  const fonts = opts.fonts ?? readyFonts(frame);
  if (!fonts) {
    // Failure is not ours to report here: the box annotator fails the run on a missing font.
    prepareSlate(frame).catch(() => undefined);
    return false;
  }
  const gap = Math.round(fonts.body.cellHeight * 0.4);
  let blockH = 0;
  let blockW = 0;
  lines.forEach((line, i) => {
    const f = i === 0 ? fonts.title : fonts.body;
    blockH += f.cellHeight + (i > 0 ? gap : 0);
    blockW = Math.max(blockW, f.measure(line).width);
  });
  // The band keeps white text readable over a bright sky even after dimming.
  const pad = gap * 2;
  const top = evenDown((H - blockH) / 2);
  blendRect(frame, evenDown((W - blockW) / 2 - pad), top - pad, blockW + 2 * pad + 2, blockH + 2 * pad, BLACK, 0.55);
  let y = top;
  lines.forEach((line, i) => {
    const f = i === 0 ? fonts.title : fonts.body;
    f.drawText(frame, line, evenDown((W - f.measure(line).width) / 2), y, WHITE);
    y += f.cellHeight + gap;
  });
  return true;
}
