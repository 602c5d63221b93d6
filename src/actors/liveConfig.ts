import type { ConfigBody } from '../config/index.js';

/**
 * The client config a run executes, replaceable while it runs (PUT /v1/configs → NOTIFY → engine).
 * Stages compare `version` with the one they built their state for and rebuild on the next frame, so a
 * change applies without restarting the output stream.
 */
export interface LiveConfig {
  body: ConfigBody;
  version: number;
}
