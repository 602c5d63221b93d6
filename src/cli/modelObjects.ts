import { ModelObjects } from '../io/s3/modelObjects.js';
import type { ModelS3Config } from '../io/s3/config.js';
import type { Logger } from '../log.js';

/**
 * The API's S3 store, when SIE_MODEL_S3_URL is set: one line at start says where big weights go and from
 * which size (the store's URL and endpoint only: credentials are the SDK's, never read or logged here).
 */
export async function openModelObjects(config: ModelS3Config | undefined, logger: Logger): Promise<ModelObjects | undefined> {
  if (!config) return undefined;
  const objects = await ModelObjects.create(config, logger);
  logger.info({ store: objects.name, minBytes: config.minBytes }, 'model store: weights of minBytes and more go to S3, smaller ones to PostgreSQL');
  return objects;
}
