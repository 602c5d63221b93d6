import { z } from 'zod';
import { inferenceConfigSchema } from './inference.js';
import { drawingConfigSchema } from './drawing.js';
import { rulesConfigSchema } from './rules.js';
import { webhookConfigSchema } from './webhook.js';

/**
 * The body of a client config (what the API stores per version, what a run executes, what `sie replay`
 * reads minus model_id). Unknown keys are rejected: a typo must not be silently ignored.
 */
export const configBodySchema = z
  .object({
    inference: inferenceConfigSchema.default(inferenceConfigSchema.parse({})),
    rules: rulesConfigSchema,
    drawing: drawingConfigSchema.default(drawingConfigSchema.parse({})),
    webhook: webhookConfigSchema.optional().describe('POST every event of the run to this URL; none when absent'),
  })
  .strict();

export type ConfigBody = z.infer<typeof configBodySchema>;
