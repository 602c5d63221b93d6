import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Pool } from 'pg';
import type { ModelObjects } from '../s3/modelObjects.js';
import type { ModelStore } from './modelStore.js';

/** The app as route modules see it: zod schemas give handlers typed params, query and body. */
export type ZodApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface ApiContext {
  readonly pool: Pool;
  readonly store: ModelStore;
  /** Largest accepted ONNX upload in bytes (SIE_MAX_MODEL_BYTES); larger ones get 413. */
  readonly maxModelBytes: number;
  /** Real path file:// sources must be under; undefined = file sources refused. */
  readonly mediaRoot: string | undefined;
  /** SIE_RTSP_PUBLIC_URL: the base of every run's output_url (see runView); undefined = the engine's own. */
  readonly publicRtspUrl: string | undefined;
  /** The S3 store big models go to (SIE_MODEL_S3_URL, at SIE_MODEL_S3_MIN_BYTES and above); undefined = none. */
  readonly objects: ModelObjects | undefined;
}

/** Status codes every route may answer with an error body; listed in the OpenAPI document. */
export const ERROR_CODES = [400, 404, 409, 413, 415, 422] as const;
