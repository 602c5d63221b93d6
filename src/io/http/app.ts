import fastifyMultipart from '@fastify/multipart';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Pool } from 'pg';
import { silentLogger, type Logger } from '../../log.js';
import type { ApiContext, ZodApp } from './context.js';
import { installEdgeChecks } from './edge.js';
import { frameworkErrors, installErrorHandlers, MAX_PARAM_LENGTH } from './errors.js';
import { ModelStore } from './modelStore.js';
import type { ModelObjects } from '../s3/modelObjects.js';
import { openMediaRoot } from '../mediaRoot.js';
import { configRoutes } from './routes/configs.js';
import { eventRoutes, type EventRouteOptions } from './routes/events.js';
import { apiProbes, healthRoutes } from './routes/health.js';
import { combineProbes, type Probes } from '../../observability/health.js';
import type { SieMetrics } from '../../observability/metrics.js';
import { runsByState } from '../db/sql/runsByState.js';
import { modelRoutes } from './routes/models.js';
import { runRoutes } from './routes/runs.js';

export const DEFAULT_MAX_MODEL_BYTES = 500 * 1024 * 1024;
export const DEFAULT_DATA_DIR = './.sie';

export interface ApiOptions {
  /** Migrated already (`sie api` and `sie serve` migrate at start). */
  pool: Pool;
  /** SIE_DATA_DIR: uploaded models go to <dataDir>/models/. */
  dataDir: string;
  /** SIE_MEDIA_ROOT / --media-root: file:// sources only below it; undefined (default) = refused. */
  mediaRoot?: string;
  /** The base of every run's output_url (SIE_RTSP_PUBLIC_URL): rtsp://host:port, a Service in front of the engines. */
  publicRtspUrl?: string;
  logger?: Logger;
  /** SIE_MAX_MODEL_BYTES (default 500 MB). */
  maxModelBytes?: number;
  /** The events SSE stream's poll and heartbeat (defaults 250 ms, 15 s; tests shorten them). */
  events?: EventRouteOptions;
  /** The process's metrics: served on /metrics, with the API's own families (requests, runs by state). */
  metrics?: SieMetrics;
  /** More readiness and startup checks: the engine's, in `sie serve`. */
  probes?: Probes;
  /** The S3 store for big models' weights (SIE_MODEL_S3_URL); none: every model's weights go to PostgreSQL. */
  modelObjects?: ModelObjects;
}

/** The multipart upload's OpenAPI body: the route has no zod body (it streams its parts itself). */
const modelUploadBody = {
  type: 'object',
  required: ['file', 'labels', 'name', 'format'],
  properties: {
    file: { type: 'string', format: 'binary', description: 'ONNX weights' },
    labels: { type: 'string', format: 'binary', description: 'class names, one a line, in output order' },
    name: { type: 'string' },
    format: { type: 'string', enum: ['yolox'] },
  },
};

/**
 * The HTTP API as a Fastify instance, not listening: `sie api` listens on it, `sie serve` mounts it next
 * to an engine in one process, tests drive it with inject(). Requests are validated by the zod schemas
 * of src/io/http/schemas.ts (which reuse src/config), errors are always `{error, detail}`.
 */
export async function buildApi(opts: ApiOptions): Promise<FastifyInstance> {
  const maxModelBytes = opts.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES;
  // NaN here once made every upload a 500 while the server looked healthy: refuse to build instead.
  if (!Number.isSafeInteger(maxModelBytes) || maxModelBytes <= 0) {
    throw new Error(`maxModelBytes: expected a positive whole number of bytes, got ${maxModelBytes}`);
  }
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast only keeps the instance's type the default one.
    loggerInstance: (opts.logger ?? silentLogger) as FastifyBaseLogger,
    // Bodies are JSON configs and runs, small; models come as multipart, limited separately.
    bodyLimit: 1024 * 1024,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandlers(app);
  installEdgeChecks(app);
  const metrics = opts.metrics;
  if (metrics) {
    metrics.setApi({ runsByState: () => runsByState(opts.pool) });
    // Route templates only (`/v1/runs/:id`): bounded labels, no ids.
    app.addHook('onResponse', async (req, reply) => {
      metrics.observeHttp(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    });
  }

  await app.register(fastifyMultipart, { throwFileSizeLimit: true });
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'sie — Stream Inference Engine',
        version: '1',
        description: 'Models, configs and runs. A run is a row in PostgreSQL that an engine claims.',
      },
    },
    transform: (args) => {
      const out = jsonSchemaTransform(args);
      if (args.url === '/v1/models' && args.route.method === 'POST') out.schema = { ...out.schema, body: modelUploadBody };
      return out;
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const ctx: ApiContext = {
    pool: opts.pool,
    store: new ModelStore(opts.dataDir),
    maxModelBytes,
    mediaRoot: opts.mediaRoot === undefined ? undefined : openMediaRoot(opts.mediaRoot),
    publicRtspUrl: opts.publicRtspUrl,
    objects: opts.modelObjects,
  };
  const zapp: ZodApp = app.withTypeProvider<ZodTypeProvider>();
  const own = apiProbes(opts.pool);
  healthRoutes(zapp, opts.probes ? combineProbes(own, opts.probes) : own, metrics);
  modelRoutes(zapp, ctx);
  configRoutes(zapp, ctx);
  runRoutes(zapp, ctx);
  eventRoutes(zapp, ctx, opts.events);
  await app.ready();
  return app;
}
