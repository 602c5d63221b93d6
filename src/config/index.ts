import { z } from 'zod';
import { inferenceConfigSchema } from './inference.js';
import { drawingConfigSchema } from './drawing.js';
import { rulesConfigSchema } from './rules.js';

/**
 * The body of a client config (what the API stores per version, what a run executes, what `sie replay`
 * reads minus model_id). Unknown keys are rejected: a typo must not be silently ignored.
 */
export const configBodySchema = z
  .object({
    inference: inferenceConfigSchema.default(inferenceConfigSchema.parse({})),
    rules: rulesConfigSchema,
    drawing: drawingConfigSchema.default(drawingConfigSchema.parse({})),
  })
  .strict();

export type ConfigBody = z.infer<typeof configBodySchema>;

export { inferenceConfigSchema, drawingConfigSchema, rulesConfigSchema };
export type { InferenceConfig } from './inference.js';
export type { DrawingConfig } from './drawing.js';

/** One readable line per problem: `rules.0.zone: expected array` — what API errors and the CLI print. */
export function describeZodError(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
}
