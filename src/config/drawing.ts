import { z } from 'zod';

/** `drawing` section: how results are drawn on the output. Every field optional with a default. */
export const drawingConfigSchema = z
  .object({
    boxes: z.boolean().default(true).describe('draw detection boxes'),
    labels: z.boolean().default(true).describe('draw the class name tag on each box'),
    confidence: z.boolean().default(true).describe('show the score in the tag'),
    thickness: z.number().int().min(1).max(20).optional().describe('box line width in pixels; default scales with the frame'),
    text_scale: z.number().min(0.25).max(4).default(1).describe('label text size relative to the default for the frame'),
  })
  .strict();

export type DrawingConfig = z.infer<typeof drawingConfigSchema>;
