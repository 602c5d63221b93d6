/**
 * Filled text tags for zones and lines ("door: 3", "entrance  in 12  out 7"): the same look as a box's
 * class tag (boxSizes decides the sizes), and their text rebuilt only when a name or count changes.
 */
import type { BoxSizes } from './boxAnnotator.js';
import type { GlyphAtlas } from './glyphAtlas.js';
import type { ClassColor } from './palette.js';
import { fillRect, type FramePixels } from './yuv.js';

const evenUp = (v: number): number => Math.ceil(v / 2) * 2;

/** Width of a tag for `chars` characters, even so its chroma edges are crisp. */
export function tagWidth(chars: number, atlas: GlyphAtlas, sizes: BoxSizes): number {
  return evenUp(chars * atlas.cellWidth + 2 * sizes.padding);
}

/** A tag with its top-left at (x, y): filled in the colour, text in the colour's readable ink. */
export function drawTag(
  frame: FramePixels,
  atlas: GlyphAtlas,
  sizes: BoxSizes,
  text: string,
  x: number,
  y: number,
  color: ClassColor,
): void {
  fillRect(frame, x, y, tagWidth(text.length, atlas, sizes), sizes.tagHeight, color.fill);
  atlas.drawText(frame, text, x + sizes.padding, y + ((sizes.tagHeight - sizes.textHeight) >> 1), color.text);
}

/**
 * Per-id label text, remade only when the name or one of the two numbers changes, so a steady count
 * costs no string per frame. Bounded: ids come from config, and a cleared map only rebuilds a few.
 */
export class TextCache {
  private readonly entries = new Map<string, { name: string; a: number; b: number; text: string }>();

  constructor(
    private readonly make: (name: string, a: number, b: number) => string,
    private readonly limit = 256,
  ) {}

  get(id: string, name: string, a: number, b: number): string {
    const e = this.entries.get(id);
    // Object.is: NaN (no count) equals itself, so it is cached too.
    if (e && e.name === name && Object.is(e.a, a) && Object.is(e.b, b)) return e.text;
    if (this.entries.size >= this.limit) this.entries.clear();
    const text = this.make(name, a, b);
    this.entries.set(id, { name, a, b, text });
    return text;
  }
}
