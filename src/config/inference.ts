import { z } from 'zod';
import { polygonSchema } from './rules.js';

/** `inference` section of a client config: what the detector keeps. Validated once, at the edge. */
export const inferenceConfigSchema = z
  .object({
    confidence: z.number().min(0).max(1).default(0.3).describe('minimum score (objectness x class) a detection needs'),
    iou: z.number().min(0).max(1).default(0.45).describe('IoU above which NMS suppresses the weaker box of the same class'),
    classes: z
      .array(z.string().min(1).max(200))
      .max(1000)
      .optional()
      .describe("class names to keep (the model's labels); all when absent"),
    every_nth_frame: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(1)
      .describe('run the detector on every n-th frame only; tracks carry the others'),
    min_area: z
      .number()
      .min(0)
      .max(1)
      .default(0)
      .describe('drop detections whose box covers less than this fraction of the frame area (0 = keep all)'),
    ignore_zones: z
      .array(polygonSchema)
      .max(50)
      .default([])
      .describe('polygons (fractions of the frame) where detections are dropped before tracking, judged by the box bottom centre'),
  })
  .strict();

export type InferenceConfig = z.infer<typeof inferenceConfigSchema>;
