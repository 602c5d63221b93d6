// The drawing stage's public surface: the pipeline imports from here, not from the parts.
export { createBoxAnnotator, boxSizes, placeTag } from './boxAnnotator.js';
export type { BoxAnnotator, BoxAnnotatorOptions, BoxMetrics, BoxSizes, BoxStyle } from './boxAnnotator.js';
export { drawSlate, prepareSlate, slateTextHeights } from './slate.js';
export type { SlateFonts, SlateOptions } from './slate.js';
export { loadGlyphAtlas, peekGlyphAtlas, MissingFontError, DEFAULT_FONT, FONT_PACKAGE } from './glyphAtlas.js';
export type { GlyphAtlas, TextSize } from './glyphAtlas.js';
export { DEFAULT_PALETTE, Palette, readableTextOn, relativeLuminance } from './palette.js';
export type { ClassColor } from './palette.js';
export { rgbToYuv, hexToRgb, fillRect, strokeRect, blendRect, blendMask, dimFrame, readYuv, WHITE, BLACK } from './yuv.js';
export type { FramePixels, RgbColor, YuvColor } from './yuv.js';
