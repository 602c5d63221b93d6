import { z } from 'zod';
import { ping } from '../../db/sql/ping.js';
import type { ApiContext, ZodApp } from '../context.js';
import { ApiError } from '../errors.js';
import { errorSchema } from '../schemas.js';

const okSchema = z.object({ status: z.literal('ok') });

/** Liveness (the process answers) and readiness (the database answers), for probes and load balancers. */
export function healthRoutes(app: ZodApp, ctx: ApiContext): void {
  app.get('/healthz', { schema: { tags: ['health'], summary: 'The process is up', response: { 200: okSchema } } }, async () => ({
    status: 'ok' as const,
  }));

  app.get(
    '/readyz',
    { schema: { tags: ['health'], summary: 'The database is reachable (503 otherwise)', response: { 200: okSchema, 503: errorSchema } } },
    async (req) => {
      try {
        await ping(ctx.pool);
      } catch (err) {
        req.log.warn({ error: (err as Error).message }, 'readiness: database unreachable');
        throw new ApiError(503, 'unavailable', `database: ${(err as Error).message}`);
      }
      return { status: 'ok' as const };
    },
  );
}
