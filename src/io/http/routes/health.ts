import { z } from 'zod';
import type { Pool } from 'pg';
import { ping } from '../../db/sql/ping.js';
import { redactText } from '../../../redact.js';
import type { ZodApp } from '../context.js';
import { failedChecks, type ProbeCheck, type ProbeChecks, type Probes } from '../../../observability/health.js';
import type { SieMetrics } from '../../../observability/metrics.js';

const checksSchema = z
  .record(z.string(), z.object({ ok: z.boolean(), detail: z.string().optional() }))
  .describe('each check by name (database, lease, draining, registered, models), with why it failed');
const okSchema = z.object({ status: z.literal('ok'), checks: checksSchema.optional() });
const unavailableSchema = z.object({ error: z.literal('unavailable'), detail: z.string(), checks: checksSchema });

/** How long a probe waits for the database: a probe that hangs is a probe that fails, but later. */
const DATABASE_PROBE_TIMEOUT_MS = 2000;

/**
 * The ping in flight per pool. Probes that come while one is unanswered share it: against a database that
 * hangs, each probe would otherwise leave a ping holding (or waiting for) one of the pool's few
 * connections, and a kubelet probing every few seconds would starve the lease renewal and the claims.
 */
const pingsInFlight = new WeakMap<Pool, Promise<void>>();

function sharedPing(pool: Pool): Promise<void> {
  let p = pingsInFlight.get(pool);
  if (!p) {
    p = ping(pool).finally(() => pingsInFlight.delete(pool));
    pingsInFlight.set(pool, p);
  }
  return p;
}

/** One round trip to the database, within DATABASE_PROBE_TIMEOUT_MS; at most one at a time per pool. */
export async function databaseCheck(pool: Pool): Promise<ProbeCheck> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      sharedPing(pool),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${DATABASE_PROBE_TIMEOUT_MS} ms`)), DATABASE_PROBE_TIMEOUT_MS))),
    ]);
    return { ok: true };
  } catch (err) {
    return { ok: false, detail: redactText((err as Error).message || String(err)) };
  } finally {
    clearTimeout(timer);
  }
}

/** The API's own probes: ready when the database answers; started once it listens (it migrated first). */
export function apiProbes(pool: Pool): Probes {
  return {
    readiness: async () => ({ database: await databaseCheck(pool) }),
    startup: async () => ({ migrated: { ok: true } }),
  };
}

/**
 * Liveness (`/healthz`), readiness (`/readyz`), startup (`/startupz`) and, with metrics, `/metrics`
 * (OpenMetrics text). A failing probe is a 503 whose body names every check and why it failed.
 */
export function healthRoutes(app: ZodApp, probes: Probes, metrics?: SieMetrics): void {
  app.get('/healthz', { schema: { tags: ['health'], summary: 'Liveness: the process is up', response: { 200: okSchema } } }, async () => ({
    status: 'ok' as const,
  }));

  const probe = (path: string, summary: string, get: () => Promise<ProbeChecks>) =>
    app.get(path, { schema: { tags: ['health'], summary, response: { 200: okSchema, 503: unavailableSchema } } }, async (req, reply) => {
      const checks = await get();
      const failed = failedChecks(checks);
      if (failed === undefined) return { status: 'ok' as const, checks };
      req.log.warn({ probe: path, failed }, 'probe failed');
      return reply.code(503).send({ error: 'unavailable' as const, detail: failed, checks });
    });
  probe('/readyz', 'Readiness: the database answers; an engine holds its lease and is not draining (503 otherwise)', () => probes.readiness());
  probe('/startupz', 'Startup: migrated; an engine registered with no run still loading its model (503 otherwise)', () => probes.startup());

  if (metrics) {
    app.get('/metrics', { schema: { tags: ['health'], summary: 'Prometheus metrics (OpenMetrics text)' } }, async (_req, reply) => {
      const text = await metrics.render();
      return reply.type(metrics.contentType).send(text);
    });
  }
}
