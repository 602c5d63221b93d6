/**
 * Per-class colours. The list is supervision's default palette: people already know it from the
 * Python tooling, its neighbours differ clearly in hue, and none is too dark to see on video.
 */
import { BLACK, hexToRgb, rgbToYuv, WHITE, type RgbColor, type YuvColor } from './yuv.js';

export const DEFAULT_PALETTE: readonly string[] = [
  '#A351FB', '#FF4040', '#FFA1A0', '#FF7633', '#FFB633', '#D1D435', '#4CFB12',
  '#94CF1A', '#40DE8A', '#1B9640', '#00D6C1', '#2E9CAA', '#00C4FF', '#364797',
  '#6675FF', '#0019EF', '#863AFF', '#530087', '#CD3AFF', '#FF97CA', '#FF39C9',
];

/** A class colour ready for drawing: the box/tag colour and the text colour that reads on it. */
export interface ClassColor {
  readonly hex: string;
  readonly rgb: RgbColor;
  readonly fill: YuvColor;
  readonly text: YuvColor;
}

/** WCAG relative luminance of an sRGB colour (0 black … 1 white). */
export function relativeLuminance({ r, g, b }: RgbColor): number {
  const lin = (c: number): number => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** White or black, whichever has the higher WCAG contrast against the background. */
export function readableTextOn(rgb: RgbColor): YuvColor {
  const l = relativeLuminance(rgb);
  const onWhite = 1.05 / (l + 0.05);
  const onBlack = (l + 0.05) / 0.05;
  return onBlack > onWhite ? BLACK : WHITE;
}

export function makeClassColor(hex: string): ClassColor {
  const rgb = hexToRgb(hex);
  return { hex, rgb, fill: rgbToYuv(rgb.r, rgb.g, rgb.b), text: readableTextOn(rgb) };
}

/** Colours resolved once (at annotator creation), indexed by class id, wrapping around the list. */
export class Palette {
  private readonly colors: readonly ClassColor[];

  constructor(hexes: readonly string[] = DEFAULT_PALETTE) {
    if (hexes.length === 0) throw new RangeError('palette needs at least one colour');
    this.colors = hexes.map(makeClassColor);
  }

  get size(): number {
    return this.colors.length;
  }

  /** Any integer works: negative or huge ids (an unknown class) still map to a stable colour. */
  forClass(classId: number): ClassColor {
    const n = this.colors.length;
    const i = ((Math.trunc(classId) % n) + n) % n;
    return this.colors[Number.isFinite(i) ? i : 0]!;
  }
}

// Colours named per frame by zones and lines ('#rrggbb' strings from the rules) are parsed once.
const byHex = new Map<string, ClassColor | null>();

/**
 * The colour `hex` names, or `fallback` when it is absent or not '#rrggbb'. Drawing never throws on a
 * bad colour: config validation is where a typo is reported, a live stream must keep its picture.
 */
export function colorOrDefault(hex: string | undefined, fallback: ClassColor): ClassColor {
  if (hex === undefined) return fallback;
  let c = byHex.get(hex);
  if (c === undefined) {
    try {
      c = makeClassColor(hex);
    } catch {
      c = null;
    }
    if (byHex.size < 1024) byHex.set(hex, c);
  }
  return c ?? fallback;
}

/** A stable palette entry for a string id (FNV-1a), so a zone keeps its colour when others come or go. */
export function colorForId(palette: Palette, id: string): ClassColor {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return palette.forClass(h >>> 0);
}
