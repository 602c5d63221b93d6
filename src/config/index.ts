/**
 * Temporary, until the pipeline rewrite lands: its files still import these from here. The config body
 * lives in ./body.ts (the webhook section in ./webhook.ts, describeZodError in ./zodError.ts); import those.
 * Delete this file, and its entry in eslint.config.js, once nothing imports it.
 */
export { configBodySchema, type ConfigBody } from './body.js';
