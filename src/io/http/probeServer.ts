import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { silentLogger, type Logger } from '../../log.js';
import type { Probes } from '../../observability/health.js';
import type { SieMetrics } from '../../observability/metrics.js';
import { healthRoutes } from './routes/health.js';

/**
 * `sie engine --metrics-port N`: a small HTTP listener with the probes (/healthz, /readyz, /startupz) and
 * /metrics, nothing else (an engine serves no API).
 */
export async function startProbeServer(o: { host: string; port: number; probes: Probes; metrics: SieMetrics; logger?: Logger }): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: (o.logger ?? silentLogger) as FastifyBaseLogger, disableRequestLogging: true });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  healthRoutes(app.withTypeProvider<ZodTypeProvider>(), o.probes, o.metrics);
  await app.listen({ host: o.host, port: o.port });
  return app;
}

/** The port a listening Fastify instance got (the one asked for, or the kernel's pick for 0). */
export function listeningPort(app: FastifyInstance, fallback: number): number {
  const addr = app.server.address();
  return typeof addr === 'object' && addr ? addr.port : fallback;
}
