import { z } from 'zod';
import type { ConfigBody } from '../../../config/body.js';
import type { WebhookConfig } from '../../../config/webhook.js';
import { redactText } from '../../../redact.js';
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

const staleVersion = (id: string, from: number, now: number) =>
  conflict(`version: config ${id} is at version ${now}, this edit started from version ${from}; GET it again and reapply the change`);

/**
 * A GET shows the webhook's secrets as `***` (URL password, header values); a PUT of that document must not
 * store the stars. A redacted value the stored webhook has is put back; one it does not have is a 422.
 */
function restoreRedactedWebhook(sent: WebhookConfig | undefined, stored: WebhookConfig | undefined): WebhookConfig | undefined {
  if (!sent) return undefined;
  let url = sent.url;
  if (stored && url === redactText(stored.url)) url = stored.url;
  // A password of exactly "***" (redaction leaves it as it is) that is not the stored URL's: the stars of
  // some other GET, never a real password to store.
  else if (redactText(url) === url && /:\*\*\*@/.test(url)) {
    throw unprocessable(`webhook.url: the password '***' is the redacted one a GET shows and matches no stored URL; send the real password`);
  }
  let headers = sent.headers;
  if (headers) {
    headers = Object.fromEntries(
      Object.entries(headers).map(([name, value]) => {
        if (value !== '***') return [name, value];
        const kept = stored?.headers?.[name];
        if (kept === undefined) throw unprocessable(`webhook.headers.${name}: '***' is the redacted value shown by GET, and the stored webhook has no such header; send the real value`);
        return [name, kept];
      }),
    );
  }
  return { ...sent, url, ...(headers ? { headers } : {}) };
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
      if (input.id !== undefined) throw unprocessable(`id: set by the server; to replace config ${input.id}, PUT /v1/configs/${input.id}`);
      const body = await checkAgainstModel(ctx, { ...input, webhook: restoreRedactedWebhook(input.webhook ?? undefined, undefined) });
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
      if (input.id !== undefined && input.id !== id) throw unprocessable(`id: ${input.id} is not the config in the path (${id})`);
      if (input.version !== undefined && input.version !== current.version) throw staleVersion(id, input.version, current.version);
      const webhook = restoreRedactedWebhook(input.webhook ?? undefined, (current.body as Partial<ConfigBody>).webhook);
      const body = await checkAgainstModel(ctx, { ...input, webhook });
      const row = await updateConfig(ctx.pool, { id, name: input.name, modelId: input.model_id, body, fromVersion: input.version });
      if (!row) {
        // Something changed between the checks and the update; say what.
        const now = await getConfig(ctx.pool, id);
        if (!now) throw notFound('config', id);
        if (input.version !== undefined && now.version !== input.version) throw staleVersion(id, input.version, now.version);
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
