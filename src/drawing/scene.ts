/**
 * The whole per-frame picture, as the `drawing` config asks for it. Layers go bottom to top:
 *   privacy pixelation → zones → lines → trails → boxes → every tag → header
 * Pixelation comes first so nothing drawn later is smeared and nothing masked shows through. All tags
 * come after all shapes, laid out together (tagLayout.ts) so none covers another or leaves the frame,
 * in order of importance: the header's place, line legends, zone tags, rule texts, then box tags (on
 * the sample frame a parked car's box tag once hid the zone's count; the few rule counts matter more
 * than one box tag). The header comes last, always readable.
 */
import { describeZodError } from '../config/zodError.js';
import { drawingConfigSchema, type DrawingConfig, type DrawingConfigInput } from '../config/drawing.js';
import { emptyDetections, makeDetections, type Detections } from '../detections.js';
import { ConfigInvalidError } from '../errors.js';
import { yuv420pSize } from '../frame.js';
import { createBoxAnnotator, type BoxStyle } from './boxAnnotator.js';
import { createEventAnnotator, type EventForText } from './eventAnnotator.js';
import { createHeaderAnnotator, type HeaderAnnotator, type HeaderInfo } from './headerAnnotator.js';
import { createLineAnnotator, type LineAnnotator, type LineDrawing } from './lineAnnotator.js';
import { DEFAULT_PALETTE } from './palette.js';
import { createPrivacyBlur, type PrivacyBlur } from './privacyBlur.js';
import { TagLayout } from './tagLayout.js';
import { createTrailAnnotator, type TrailAnnotator } from './trackAnnotator.js';
import type { FramePixels } from './yuv.js';
import { createZoneAnnotator, type ZoneAnnotator, type ZoneDrawing } from './zoneAnnotator.js';

/** What the drawing stage knows about one frame. Everything optional: a missing part is not drawn. */
export interface SceneInput {
  /** Boxes (pixels), classes, scores; trackId >= 0 gets an id in its tag and a trail. */
  readonly detections?: Detections;
  readonly zones?: readonly ZoneDrawing[];
  readonly lines?: readonly LineDrawing[];
  /** Track ids of the objects that triggered a rule on this frame. */
  readonly highlighted?: ReadonlySet<number>;
  /** The rules' events of this frame: each shows a short text by its object for a while. */
  readonly events?: readonly EventForText[];
  /** Source time of the frame, seconds: how long rule texts stay is measured on it (default: header.ptsS). */
  readonly ptsS?: number;
  readonly header?: HeaderInfo;
}

export interface SceneRendererOptions {
  width: number;
  height: number;
  /** Class names indexed by class id (the model's labels). */
  labels: readonly string[];
  /** The `drawing` config section, raw or already parsed; default all defaults. */
  style?: DrawingConfigInput;
}

export interface SceneRenderer {
  readonly style: DrawingConfig;
  /** Draw every enabled layer into the frame, in place. Call once per frame: trails advance per call. */
  draw(frame: FramePixels, input: SceneInput): void;
  /** Forget trails and rule texts (source reconnected, positions from before mean nothing). */
  reset(): void;
  /** Where the last draw put its tags (the header's bar first, when shown): for tests and debugging. */
  readonly tags: TagLayout;
}

/** Class id per configured class name; a name the model does not have is a config error. */
function classIdsOf(names: Iterable<string>, labels: readonly string[], field: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const name of names) {
    const id = labels.indexOf(name);
    // Fail the run rather than skip: a misspelt blur class would otherwise show faces unmasked.
    if (id < 0) throw new ConfigInvalidError(`drawing.${field}: '${name}' is not a class of the model`);
    out.set(name, id);
  }
  return out;
}

/** One '#rrggbb' per class id: the default palette with the config's overrides applied. */
export function classPalette(labels: readonly string[], colors: Readonly<Record<string, string>> = {}): string[] {
  const ids = classIdsOf(Object.keys(colors), labels, 'colors');
  if (labels.length === 0) return [...DEFAULT_PALETTE];
  const hexes = labels.map((_, i) => DEFAULT_PALETTE[i % DEFAULT_PALETTE.length]!);
  for (const [name, id] of ids) hexes[id] = colors[name]!;
  return hexes;
}

export async function createSceneRenderer(opts: SceneRendererOptions): Promise<SceneRenderer> {
  const parsed = drawingConfigSchema.safeParse(opts.style ?? {});
  if (!parsed.success) throw new ConfigInvalidError(`drawing: ${describeZodError(parsed.error)}`);
  const style = parsed.data;
  const { width, height } = opts;
  const palette = classPalette(opts.labels, style.colors);
  const blurIds = [...classIdsOf(style.blur_classes, opts.labels, 'blur_classes').values()];
  const common = { thickness: style.thickness, textScale: style.text_scale, palette };
  const boxStyle: BoxStyle = {
    ...common,
    showLabels: style.labels,
    showConfidence: style.confidence,
    showTrackIds: style.track_ids,
    highlightColor: style.highlight_color,
  };

  const [boxes, zones, lines, header, events] = await Promise.all([
    style.boxes ? createBoxAnnotator({ width, height, labels: opts.labels, style: boxStyle }) : undefined,
    style.zones
      ? createZoneAnnotator({ width, height, style: { ...common, opacity: style.zone_opacity, showLabels: style.labels, highlightColor: style.highlight_color } })
      : undefined,
    style.lines ? createLineAnnotator({ width, height, style: { ...common, showLabels: style.labels, color: style.line_color } }) : undefined,
    style.header ? createHeaderAnnotator({ width, height, style: common }) : undefined,
    style.event_text
      ? createEventAnnotator({ width, height, style: { textScale: style.text_scale, highlightColor: style.highlight_color, seconds: style.event_text_seconds } })
      : undefined,
  ] as const);
  const trails: TrailAnnotator | undefined = style.trails
    ? createTrailAnnotator({ width, height, style: { ...common, length: style.trail_length } })
    : undefined;
  const blur: PrivacyBlur | undefined = blurIds.length > 0 ? createPrivacyBlur({ width, height, classIds: blurIds }) : undefined;
  const none = emptyDetections();
  const layout = new TagLayout();
  // Source time for the rule texts when a caller gives none: one frame at 25 fps per draw.
  let clockS = 0;

  const draw = (frame: FramePixels, input: SceneInput): void => {
    const d = input.detections ?? none;
    if (blur) blur.draw(frame, d);
    if (zones && input.zones) zones.drawShapes(frame, input.zones);
    if (lines && input.lines) lines.drawShapes(frame, input.lines);
    if (trails) trails.draw(frame, d);
    if (boxes) boxes.drawBoxes(frame, d, input.highlighted);
    layout.begin(frame.width, frame.height);
    if (header && input.header) layout.reserve(0, 0, header.width(input.header), header.sizes.tagHeight);
    if (lines && input.lines) lines.drawLabels(frame, input.lines, layout);
    if (zones && input.zones) zones.drawLabels(frame, input.zones, layout);
    if (events) {
      const pts = input.ptsS ?? input.header?.ptsS;
      clockS = pts !== undefined && Number.isFinite(pts) ? pts : clockS + 0.04;
      events.draw(frame, clockS, input.events, d, input.zones, layout);
    }
    if (boxes) boxes.drawTags(frame, d, layout, input.highlighted);
    if (header && input.header) header.draw(frame, input.header);
  };

  warmUp(draw, { zones, lines, header }, blurIds[0] ?? 0);
  const reset = (): void => {
    trails?.reset();
    events?.reset();
    clockS = 0;
  };
  reset();
  return { style, draw, reset, tags: layout };
}

/**
 * Run every layer on a scratch frame so the JIT has compiled the shape code before the first real
 * frame. The scratch is a Buffer like the pipeline's frames: warmed on a plain Uint8Array, the code
 * deoptimised on the first real frame (measured at 1080p: first draw 56 ms, against ~2 ms warm).
 */
function warmUp(
  draw: (frame: FramePixels, input: SceneInput) => void,
  parts: { zones?: ZoneAnnotator; lines?: LineAnnotator; header?: HeaderAnnotator },
  classId: number,
): void {
  const w = 192;
  const h = 144;
  const frame = { pixels: Buffer.alloc(yuv420pSize({ width: w, height: h })), width: w, height: h };
  const zonesIn: ZoneDrawing[] = [{ id: 'z', name: 'z', polygon: [[5, 40], [120, 30], [180, 130], [30, 110]], count: 1 }];
  const linesIn: LineDrawing[] = [{ id: 'l', name: 'l', p1: [10, 50], p2: [150, 70], in: 1, out: 2 }];
  const hl = new Set([1]);
  const warmEvents: EventForText[] = [{ type: 'cross', track_id: 1, rule_id: 'l', direction: 'in' }, { type: 'started', track_id: null, rule_id: 'z' }];
  for (let i = 0; i < 100; i++) {
    const x = 20 + (i % 30) * 3;
    draw(frame, {
      detections: makeDetections({
        xyxy: Float32Array.of(x, 30, x + 40.5, 110.5),
        confidence: Float32Array.of(0.5),
        classId: Int32Array.of(classId),
        trackId: Int32Array.of(1),
      }),
      zones: parts.zones ? zonesIn : undefined,
      lines: parts.lines ? linesIn : undefined,
      highlighted: i % 2 === 0 ? hl : undefined,
      events: i % 10 === 0 ? warmEvents : undefined,
      ptsS: i / 25,
      header: parts.header ? { title: 'warm', ptsS: i, fps: 25 } : undefined,
    });
  }
}
