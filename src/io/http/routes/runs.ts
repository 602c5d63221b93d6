import { z } from 'zod';
import { deleteRun } from '../../db/sql/deleteRun.js';
import { getRun } from '../../db/sql/getRun.js';
import { insertRun } from '../../db/sql/insertRun.js';
import { listRunTransitions } from '../../db/sql/listRunTransitions.js';
import { listRuns } from '../../db/sql/listRuns.js';
import { lockConfigForRun } from '../../db/sql/lockConfigForRun.js';
import { requestRunStop } from '../../db/sql/requestRunStop.js';
import { withTransaction } from '../../db/tx.js';
import type { ApiContext, ZodApp } from '../context.js';
import { resolveMediaFile } from '../../mediaRoot.js';
import { conflict, notFound, unprocessable } from '../errors.js';
import { errorSchema, idParamsSchema, noContent, runCreateSchema, runListQuerySchema, runSchema, transitionSchema } from '../schemas.js';
import { runView, transitionView } from '../views.js';

const errors = { 400: errorSchema, 404: errorSchema, 409: errorSchema, 422: errorSchema };

function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: string; constraint?: string };
  return e.code === '23505' && e.constraint === constraint;
}

export function runRoutes(app: ZodApp, ctx: ApiContext): void {
  app.post(
    '/v1/runs',
    {
      schema: {
        tags: ['runs'],
        summary: 'Create a run (a job for the engines); answers state "pending"',
        body: runCreateSchema,
        response: { 201: runSchema, ...errors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      // The engine checks again when it opens the file (rows may come from SQL; files may change).
      if (b.source_url.startsWith('file:')) {
        try {
          resolveMediaFile(ctx.mediaRoot, b.source_url);
        } catch (err) {
          throw unprocessable(`source_url: ${(err as Error).message}`);
        }
      }
      const row = await withTransaction(ctx.pool, async (c) => {
        const config = await lockConfigForRun(c, b.config_id);
        // Another client's config answers like a missing one: ids of other tenants are not confirmed.
        if (!config || config.client_id !== b.client_id) {
          throw unprocessable(`config_id: no config ${b.config_id} for client ${b.client_id}`);
        }
        if (config.model_deleted) throw unprocessable(`config_id: the model of config ${b.config_id} was deleted`);
        try {
          return await insertRun(c, {
            clientId: b.client_id,
            configId: b.config_id,
            configVersion: config.version,
            sourceUrl: b.source_url,
            outputMount: b.output.mount ?? null,
            retryMaxAttempts: b.retry.max_attempts,
            retryBackoffInitialS: b.retry.backoff_initial_s,
            retryBackoffMaxS: b.retry.backoff_max_s,
            connectTimeoutS: b.connect_timeout_s,
            pool: b.pool ?? null,
            source: b.source ?? null,
          });
        } catch (err) {
          if (isUniqueViolation(err, 'runs_live_mount_idx')) {
            throw conflict(`output.mount: "${b.output.mount}" is used by an unfinished run`);
          }
          throw err;
        }
      });
      return reply.code(201).send(runView(row, ctx.publicRtspUrl));
    },
  );

  app.get(
    '/v1/runs',
    {
      schema: {
        tags: ['runs'],
        summary: 'List runs, newest first',
        querystring: runListQuerySchema,
        response: { 200: z.array(runSchema), 400: errorSchema },
      },
    },
    async (req) => (await listRuns(ctx.pool, { state: req.query.state, clientId: req.query.client_id, limit: req.query.limit })).map((r) => runView(r, ctx.publicRtspUrl)),
  );

  app.get(
    '/v1/runs/:id',
    { schema: { tags: ['runs'], summary: 'One run', params: idParamsSchema, response: { 200: runSchema, ...errors } } },
    async (req) => {
      const r = await getRun(ctx.pool, req.params.id);
      if (!r) throw notFound('run', req.params.id);
      return runView(r, ctx.publicRtspUrl);
    },
  );

  app.get(
    '/v1/runs/:id/transitions',
    {
      schema: {
        tags: ['runs'],
        summary: "A run's state changes, oldest first",
        params: idParamsSchema,
        response: { 200: z.array(transitionSchema), ...errors },
      },
    },
    async (req) => {
      const rows = await listRunTransitions(ctx.pool, req.params.id);
      // Every run has its 'created' transition, so no rows means no run.
      if (rows.length === 0 && !(await getRun(ctx.pool, req.params.id))) throw notFound('run', req.params.id);
      return rows.map(transitionView);
    },
  );

  app.post(
    '/v1/runs/:id/stop',
    {
      schema: {
        tags: ['runs'],
        summary: 'Request a stop (202); a pending run is stopped at once, a finished one is 409',
        params: idParamsSchema,
        response: { 202: runSchema, ...errors },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      const row = await requestRunStop(ctx.pool, id);
      if (!row) {
        const r = await getRun(ctx.pool, id);
        if (!r) throw notFound('run', id);
        throw conflict(`run ${id} is already ${r.state}`);
      }
      return reply.code(202).send(runView(row, ctx.publicRtspUrl));
    },
  );

  app.delete(
    '/v1/runs/:id',
    {
      schema: {
        tags: ['runs'],
        summary: 'Delete a finished run and its history (409 while unfinished)',
        params: idParamsSchema,
        response: { 204: noContent, ...errors },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      if (!(await deleteRun(ctx.pool, id))) {
        const r = await getRun(ctx.pool, id);
        if (!r) throw notFound('run', id);
        throw conflict(`run ${id} is ${r.state}; stop it first`);
      }
      return reply.code(204).send(null);
    },
  );
}
