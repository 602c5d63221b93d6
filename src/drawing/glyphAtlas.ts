/**
 * Text for labels and slates. Rasterising SVG text per frame costs tens of milliseconds, so the
 * printable ASCII glyphs are rendered ONCE per text height (sharp + librsvg + fontconfig) into an 8-bit
 * coverage atlas; per frame, text is a copy-and-blend of those masks into the yuv420p buffer.
 */
import sharp from 'sharp';
import { InternalError } from '../errors.js';
import { blendMask, type FramePixels, type YuvColor } from './yuv.js';

const FIRST = 32;
const LAST = 126;
const GLYPHS = LAST - FIRST + 1;
/** Composed text lines kept per atlas, and the longest text kept: a label run ("#12", "person", "0.87")
 *  is 1–3 KB at 1080p, so the cache stays around a megabyte, and a few MB at worst. */
const LINE_CACHE = 512;
const LINE_CACHE_CHARS = 32;
/** What a character outside printable ASCII is drawn as (labels come from config, may hold anything). */
const REPLACEMENT = '?'.charCodeAt(0);

export const DEFAULT_FONT = 'DejaVu Sans Mono';
export const FONT_PACKAGE = 'fonts-dejavu-core';

/** DejaVu Sans Mono metrics in em: advance 1233/2048, ascent 1901/2048, descent 483/2048. */
const ADVANCE_EM = 0.602;
const ASCENT_EM = 0.928;
const LINE_EM = 1.164;

/** No glyph came out of the rasteriser: no usable font is installed. */
export class MissingFontError extends InternalError {}

export interface TextSize {
  readonly width: number;
  readonly height: number;
}

export interface GlyphAtlas {
  readonly font: string;
  /** Height of one text line in pixels (the size the atlas was built for). */
  readonly cellHeight: number;
  /** Fixed advance per character: the atlas is monospaced by construction. */
  readonly cellWidth: number;
  measure(text: string): TextSize;
  /**
   * Blend `text` with its top-left corner at (x, y); clipped to the frame. The composed glyphs of a
   * text are kept for the next time it is drawn (labels repeat frame after frame); `transient` text,
   * new every frame (a clock), is composed in a scratch line instead.
   */
  drawText(frame: FramePixels, text: string, x: number, y: number, color: YuvColor, transient?: boolean): void;
}

function escapeXml(ch: string): string {
  return ch === '&' ? '&amp;' : ch === '<' ? '&lt;' : ch === '>' ? '&gt;' : ch;
}

/**
 * One SVG with every glyph centred in its own fixed cell. Placing each glyph by hand (instead of one
 * <text> run) keeps the grid exact even if fontconfig substitutes a proportional font.
 */
function atlasSvg(font: string, cellWidth: number, cellHeight: number, fontSize: number, baseline: number): string {
  const parts: string[] = [];
  for (let i = 0; i < GLYPHS; i++) {
    const ch = String.fromCharCode(FIRST + i);
    if (ch === ' ') continue;
    parts.push(`<text x="${i * cellWidth + cellWidth / 2}" y="${baseline}">${escapeXml(ch)}</text>`);
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${GLYPHS * cellWidth}" height="${cellHeight}">` +
    `<g font-family="${escapeXml(font)}" font-size="${fontSize}" fill="#fff" text-anchor="middle">` +
    `${parts.join('')}</g></svg>`
  );
}

/**
 * Wrap rendered coverage (a GLYPHS*cellWidth x cellHeight strip, glyph i in column block i) as an atlas.
 * Exported so the "no font" check can be tested without uninstalling fonts.
 */
export function atlasFromAlpha(alpha: Uint8Array, cellWidth: number, cellHeight: number, font: string): GlyphAtlas {
  const stride = GLYPHS * cellWidth;
  if (alpha.length !== stride * cellHeight) {
    throw new InternalError(`glyph atlas has ${alpha.length} bytes, expected ${stride * cellHeight}`);
  }
  if (!alpha.some((a) => a !== 0)) {
    throw new MissingFontError(
      `no glyphs rendered for font '${font}': install a font package (Debian: apt-get install ${FONT_PACKAGE} fontconfig)`,
    );
  }
  // Per-atlas scratch line for transient text: composed here first so chroma blocks shared by two
  // neighbouring glyphs blend once with their combined coverage. Grows only for a longer text than ever.
  let scratch = new Uint8Array(0);
  // Composed lines of the texts drawn before (class names, scores, track ids, counts): composing cost
  // as much as blending (measured: 15 % of a 720p frame with 100 tags). Cleared wholesale when full.
  const lines = new Map<string, Uint8Array>();

  const measure = (text: string): TextSize => ({ width: text.length * cellWidth, height: cellHeight });

  /** The glyphs of `text` side by side into `out` (text.length * cellWidth wide, cellHeight tall). */
  const compose = (text: string, out: Uint8Array): void => {
    const n = text.length;
    const w = n * cellWidth;
    for (let k = 0; k < n; k++) {
      let code = text.charCodeAt(k);
      if (code < FIRST || code > LAST) code = REPLACEMENT;
      const src = (code - FIRST) * cellWidth;
      const dst = k * cellWidth;
      for (let row = 0; row < cellHeight; row++) {
        const s = src + row * stride;
        const d = dst + row * w;
        for (let col = 0; col < cellWidth; col++) out[d + col] = alpha[s + col]!;
      }
    }
  };

  const drawText = (frame: FramePixels, text: string, x: number, y: number, color: YuvColor, transient = false): void => {
    const n = text.length;
    if (n === 0) return;
    const w = n * cellWidth;
    const keep = !transient && n <= LINE_CACHE_CHARS;
    let line = keep ? lines.get(text) : undefined;
    if (line === undefined) {
      if (!keep) {
        if (scratch.length < w * cellHeight) scratch = new Uint8Array(w * cellHeight * 2);
        line = scratch;
      } else {
        if (lines.size >= LINE_CACHE) lines.clear();
        line = new Uint8Array(w * cellHeight);
        lines.set(text, line);
      }
      compose(text, line);
    }
    blendMask(frame, line, 0, w, x, y, w, cellHeight, color);
  };

  return { font, cellHeight, cellWidth, measure, drawText };
}

async function buildAtlas(cellHeight: number, font: string): Promise<GlyphAtlas> {
  const fontSize = cellHeight / LINE_EM;
  const cellWidth = Math.max(1, Math.ceil(fontSize * ADVANCE_EM));
  const baseline = Math.round(fontSize * ASCENT_EM * 100) / 100;
  const svg = atlasSvg(font, cellWidth, cellHeight, fontSize, baseline);
  let data: Buffer;
  try {
    // White text on transparent: the alpha channel alone is the glyph coverage.
    data = await sharp(Buffer.from(svg)).ensureAlpha().extractChannel(3).raw().toBuffer();
  } catch (err) {
    throw new MissingFontError(
      `rasterising glyphs for font '${font}' failed (is ${FONT_PACKAGE} installed?): ${(err as Error).message}`,
      { cause: err },
    );
  }
  return atlasFromAlpha(new Uint8Array(data.buffer, data.byteOffset, data.length), cellWidth, cellHeight, font);
}

const cache = new Map<string, Promise<GlyphAtlas>>();
/** The same atlases once built, for synchronous callers (the publisher's slate). */
const ready = new Map<string, GlyphAtlas>();

const keyOf = (cellHeight: number, font: string): string => `${font}|${Math.max(6, Math.round(cellHeight))}`;

/**
 * The atlas for text `cellHeight` pixels tall, built on first request and shared afterwards (every
 * annotator of a run asks for the same few sizes). A failed build is forgotten so a retry can succeed.
 */
export function loadGlyphAtlas(cellHeight: number, font: string = DEFAULT_FONT): Promise<GlyphAtlas> {
  const key = keyOf(cellHeight, font);
  let p = cache.get(key);
  if (!p) {
    p = buildAtlas(Math.max(6, Math.round(cellHeight)), font);
    cache.set(key, p);
    p.then(
      (a) => ready.set(key, a),
      () => cache.delete(key),
    );
  }
  return p;
}

/** The atlas for this height if it is already built, else undefined (never starts a build). */
export function peekGlyphAtlas(cellHeight: number, font: string = DEFAULT_FONT): GlyphAtlas | undefined {
  return ready.get(keyOf(cellHeight, font));
}
