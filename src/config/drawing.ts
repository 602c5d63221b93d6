import { z } from 'zod';

const hexColor = z.string().regex(/^#[0-9a-fA-F]{6}$/, "expected a colour as '#rrggbb'");

/** `drawing` section: how results are drawn on the output. Every field optional with a default. */
export const drawingConfigSchema = z
  .object({
    boxes: z.boolean().default(true).describe('draw detection boxes'),
    labels: z.boolean().default(true).describe('draw the class name tag on each box'),
    confidence: z.boolean().default(true).describe('show the score in the tag'),
    thickness: z.number().int().min(1).max(20).optional().describe('box line width in pixels; default scales with the frame'),
    text_scale: z.number().min(0.25).max(4).default(1).describe('label text size relative to the default for the frame'),
    track_ids: z.boolean().default(true).describe('prefix box tags with the track id ("#12 person 0.87") when tracking'),
    trails: z.boolean().default(true).describe('draw a fading trail behind each tracked object'),
    trail_length: z.number().int().min(2).max(300).default(30).describe('points (frames) kept per trail'),
    zones: z.boolean().default(true).describe('draw rule zones with their name and live count'),
    zone_opacity: z
      .number()
      .min(0)
      .max(1)
      .default(0.12)
      .describe('fill opacity of a zone; a triggered zone keeps it and gets a doubled outline in highlight_color instead'),
    lines: z.boolean().default(true).describe('draw counting lines with a legend: an arrow to each side, "IN n" on the in side, "OUT n" on the other'),
    line_color: hexColor.default('#FFFFFF').describe('colour of every counting line, its arrows and legend (white: unlike any class colour)'),
    event_text: z.boolean().default(true).describe('when a rule fires, a short text next to the object ("IN", "DWELL 32 s"), or by the zone for zone-wide events'),
    event_text_seconds: z
      .number()
      .min(0.1)
      .max(60)
      .default(1.5)
      .describe('how long a rule text stays, in seconds of source time'),
    header: z.boolean().default(true).describe('draw a top-left bar with run name, source time and fps'),
    blur_classes: z
      .array(z.string().min(1).max(200))
      .max(100)
      .default([])
      .describe('class names whose boxes are pixelated before anything is drawn (privacy); each must be a class of the model'),
    colors: z
      .record(z.string().min(1).max(200), hexColor)
      .refine((c) => Object.keys(c).length <= 1000, 'at most 1000 classes')
      .optional()
      .describe("per-class colour overrides, class name to '#rrggbb'; other classes keep the default palette"),
    highlight_color: hexColor.default('#FF0000').describe('tint over objects that triggered a rule'),
  })
  .strict();

export type DrawingConfig = z.infer<typeof drawingConfigSchema>;
/** What a client may write (every field optional): what createSceneRenderer accepts. */
export type DrawingConfigInput = z.input<typeof drawingConfigSchema>;
