import { z } from 'zod';
import type { ConfigBody } from '../../../config/body.js';
import { describeUnknownClassNames, unknownClassNames } from '../../../config/classNames.js';
import { getConfig } from '../../db/sql/getConfig.js';
import { getModel } from '../../db/sql/getModel.js';
import { insertConfig } from '../../db/sql/insertConfig.js';
import { listConfigs } from '../../db/sql/listConfigs.js';
import { lockConfig } from '../../db/sql/lockConfig.js';
import { softDeleteConfig } from '../../db/sql/softDeleteConfig.js';
import { unfinishedRunsUsingConfig } from '../../db/sql/unfinishedRunsUsingConfig.js';
import { updateConfig } from '../../db/sql/updateConfig.js';
import { withTransaction } from '../../db/tx.js';
import type { ApiContext, ZodApp } from '../context.js';
import { conflict, notFound, unprocessable } from '../errors.js';
import {
  configCreateSchema,
  configListQuerySchema,
  configReplaceSchema,
  configSchema,
  errorSchema,
  idParamsSchema,
  noContent,
} from '../schemas.js';
import { configView } from '../views.js';

const errors = { 400: errorSchema, 404: errorSchema, 409: errorSchema, 422: errorSchema };
type ConfigInput = z.infer<typeof configReplaceSchema>;

/**
 * The checks zod cannot make alone: the model exists (422 naming model_id) and every class name the config
 * writes is among its labels. A version that fails here is never stored, so it can never replace one that
 * runs (an unknown blur class would otherwise fail every run of the config at its next frame).
 */
async function checkAgainstModel(ctx: ApiContext, input: ConfigInput): Promise<ConfigBody> {
  const model = await getModel(ctx.pool, input.model_id);
  if (!model) throw unprocessable(`model_id: no model ${input.model_id}`);
  const body: ConfigBody = { inference: input.inference, rules: input.rules, drawing: input.drawing, ...(input.webhook ? { webhook: input.webhook } : {}) };
  const unknown = unknownClassNames(body, model.labels);
  if (unknown.length > 0) throw unprocessable(`${describeUnknownClassNames(unknown)} (model ${model.name})`);
  return body;
}

export function configRoutes(app: ZodApp, ctx: ApiContext): void {
  app.post(
    '/v1/configs',
    {
      schema: {
        tags: ['configs'],
        summary: 'Create a config (version 1)',
        body: configCreateSchema,
        response: { 201: configSchema, ...errors },
      },
    },
    async (req, reply) => {
      const input = req.body;
      const body = await checkAgainstModel(ctx, input);
      const row = await insertConfig(ctx.pool, { clientId: input.client_id, name: input.name, modelId: input.model_id, body });
      // No row: the model was deleted between the check and the insert.
      if (!row) throw unprocessable(`model_id: no model ${input.model_id}`);
      return reply.code(201).send(configView(row));
    },
  );

  app.get(
    '/v1/configs',
    {
      schema: {
        tags: ['configs'],
        summary: 'List configs, optionally of one client',
        querystring: configListQuerySchema,
        response: { 200: z.array(configSchema), 400: errorSchema },
      },
    },
    async (req) => (await listConfigs(ctx.pool, { clientId: req.query.client_id })).map(configView),
  );

  app.get(
    '/v1/configs/:id',
    { schema: { tags: ['configs'], summary: 'One config (current version)', params: idParamsSchema, response: { 200: configSchema, ...errors } } },
    async (req) => {
      const c = await getConfig(ctx.pool, req.params.id);
      if (!c) throw notFound('config', req.params.id);
      return configView(c);
    },
  );

  app.put(
    '/v1/configs/:id',
    {
      schema: {
        tags: ['configs'],
        summary: 'Replace a config: a new version, applied by its runs',
        params: idParamsSchema,
        body: configReplaceSchema,
        response: { 200: configSchema, ...errors },
      },
    },
    async (req) => {
      const { id } = req.params;
      const input = req.body;
      const current = await getConfig(ctx.pool, id);
      if (!current) throw notFound('config', id);
      if (input.client_id !== undefined && input.client_id !== current.client_id) {
        throw unprocessable(`client_id: config ${id} belongs to another client and cannot move`);
      }
      const body = await checkAgainstModel(ctx, input);
      const row = await updateConfig(ctx.pool, { id, name: input.name, modelId: input.model_id, body });
      if (!row) {
        // Something was deleted between the checks and the update; say which.
        if (!(await getConfig(ctx.pool, id))) throw notFound('config', id);
        throw unprocessable(`model_id: no model ${input.model_id}`);
      }
      return configView(row);
    },
  );

  app.delete(
    '/v1/configs/:id',
    {
      schema: {
        tags: ['configs'],
        summary: 'Delete a config (409 while an unfinished run uses it)',
        params: idParamsSchema,
        response: { 204: noContent, ...errors },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      await withTransaction(ctx.pool, async (c) => {
        if (!(await lockConfig(c, id))) throw notFound('config', id);
        const n = await unfinishedRunsUsingConfig(c, id);
        if (n > 0) throw conflict(`config ${id} is used by ${n} unfinished run(s); stop them first`);
        await softDeleteConfig(c, id);
      });
      return reply.code(204).send(null);
    },
  );
}
