import { z } from 'zod';
import { describeZodError } from '../../../config/index.js';
import { SieError } from '../../../errors.js';
import { loadLabels } from '../../models/modelSpec.js';
import { findModelBySha } from '../../db/sql/findModelBySha.js';
import { getModel } from '../../db/sql/getModel.js';
import { insertModel, type NewModel } from '../../db/sql/insertModel.js';
import { listModels } from '../../db/sql/listModels.js';
import { lockModel } from '../../db/sql/lockModel.js';
import { restoreModel } from '../../db/sql/restoreModel.js';
import { softDeleteModel } from '../../db/sql/softDeleteModel.js';
import { unfinishedRunsUsingModel } from '../../db/sql/unfinishedRunsUsingModel.js';
import { withTransaction } from '../../db/tx.js';
import type { ApiContext, ZodApp } from '../context.js';
import { badRequest, conflict, notFound, unprocessable } from '../errors.js';
import type { SavedUpload } from '../modelStore.js';
import { errorSchema, idParamsSchema, modelFieldsSchema, modelSchema, noContent } from '../schemas.js';
import { modelView } from '../views.js';

/** A labels file is a few KB (COCO: 80 lines); anything near this is not a labels file. */
const MAX_LABELS_BYTES = 1 << 20;
const FIELDS = new Set(['name', 'format']);
const errors = { 400: errorSchema, 404: errorSchema, 409: errorSchema, 413: errorSchema, 415: errorSchema, 422: errorSchema };

interface Upload {
  weights?: SavedUpload;
  labels?: SavedUpload;
  fields: Record<string, string>;
}

export function modelRoutes(app: ZodApp, ctx: ApiContext): void {
  app.post(
    '/v1/models',
    {
      schema: {
        tags: ['models'],
        summary: 'Upload a model (multipart: file, labels, name, format)',
        description:
          'multipart/form-data with `file` (ONNX), `labels` (text, one class a line), `name`, `format` (yolox). ' +
          'Validated in onnxruntime-node before anything is stored. The same weights again answer 200 with the stored model.',
        consumes: ['multipart/form-data'],
        response: { 200: modelSchema, 201: modelSchema, ...errors },
      },
    },
    async (req, reply) => {
      const up: Upload = { fields: {} };
      try {
        // Parts arrive in the client's order; each file is streamed to disk before the next part is read.
        const parts = req.parts({ limits: { fileSize: ctx.maxModelBytes, files: 2, fields: 4, parts: 6, fieldSize: 1024 } });
        for await (const part of parts) {
          if (part.type === 'file') {
            const name = part.filename || part.fieldname;
            if (part.fieldname === 'file' && !up.weights) up.weights = await ctx.store.save('file', part.file, name, ctx.maxModelBytes);
            else if (part.fieldname === 'labels' && !up.labels) up.labels = await ctx.store.save('labels', part.file, name, MAX_LABELS_BYTES);
            else {
              part.file.resume();
              throw badRequest(`${part.fieldname}: unexpected file (expected one "file" and one "labels")`);
            }
          } else {
            if (!FIELDS.has(part.fieldname)) throw badRequest(`${part.fieldname}: unknown field (expected name, format)`);
            up.fields[part.fieldname] = String(part.value);
          }
        }
        const { status, body } = await storeUpload(ctx, up);
        return reply.code(status).send(body);
      } finally {
        // After a successful commit the temp files were renamed away and these are no-ops.
        await ctx.store.discard(up.weights);
        await ctx.store.discard(up.labels);
      }
    },
  );

  app.get(
    '/v1/models',
    { schema: { tags: ['models'], summary: 'List models', response: { 200: z.array(modelSchema) } } },
    async () => (await listModels(ctx.pool)).map(modelView),
  );

  app.get(
    '/v1/models/:id',
    { schema: { tags: ['models'], summary: 'One model', params: idParamsSchema, response: { 200: modelSchema, ...errors } } },
    async (req) => {
      const m = await getModel(ctx.pool, req.params.id);
      if (!m) throw notFound('model', req.params.id);
      return modelView(m);
    },
  );

  app.delete(
    '/v1/models/:id',
    {
      schema: {
        tags: ['models'],
        summary: 'Delete a model (409 while an unfinished run uses it)',
        params: idParamsSchema,
        response: { 204: noContent, ...errors },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      await withTransaction(ctx.pool, async (c) => {
        if (!(await lockModel(c, id))) throw notFound('model', id);
        const n = await unfinishedRunsUsingModel(c, id);
        if (n > 0) throw conflict(`model ${id} is used by ${n} unfinished run(s); stop them first`);
        await softDeleteModel(c, id);
      });
      return reply.code(204).send(null);
    },
  );
}

/** Everything after the parts are on disk: check, validate, move into place, record. */
async function storeUpload(ctx: ApiContext, up: Upload): Promise<{ status: 200 | 201; body: ReturnType<typeof modelView> }> {
  if (!up.weights) throw badRequest('file: required (the ONNX weights)');
  if (!up.labels) throw badRequest('labels: required (a text file, one class name a line)');
  const parsed = modelFieldsSchema.safeParse(up.fields);
  if (!parsed.success) throw badRequest(describeZodError(parsed.error));
  const { name, format } = parsed.data;
  const weights = up.weights;
  const labelsFile = up.labels;

  let labels: string[];
  try {
    labels = await loadLabels(labelsFile.path);
  } catch (err) {
    if (err instanceof SieError) throw unprocessable(`labels: ${err.message.split(labelsFile.path).join(labelsFile.filename)}`);
    throw err;
  }

  const existing = await findModelBySha(ctx.pool, weights.sha256);
  if (existing && !existing.deleted_at) {
    if (existing.format === format && sameLabels(existing.labels, labels)) return { status: 200, body: modelView(existing) };
    throw conflict(
      `file: these weights are already model ${existing.id} ("${existing.name}", ${existing.format}, ` +
        `${existing.labels.length} labels) with other labels or format; delete it first to replace them`,
    );
  }

  const size = await ctx.store.validate(weights, labels, format);
  const rel = await ctx.store.commit(weights, labelsFile);
  const row: NewModel = {
    name,
    format,
    sha256: weights.sha256,
    filePath: rel.file,
    labelsPath: rel.labels,
    sizeBytes: weights.size,
    inputWidth: size.width,
    inputHeight: size.height,
    labels,
  };
  const created = existing ? await restoreModel(ctx.pool, existing.id, row) : await insertModel(ctx.pool, row);
  if (created) return { status: 201, body: modelView(created) };
  // Another upload of the same bytes won the race between our check and our insert: answer with its row.
  const winner = await findModelBySha(ctx.pool, weights.sha256);
  if (!winner || winner.deleted_at) throw new Error(`model ${weights.sha256} vanished while being stored`);
  return { status: 200, body: modelView(winner) };
}

function sameLabels(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
