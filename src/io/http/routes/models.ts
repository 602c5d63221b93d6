import { readFile } from 'node:fs/promises';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { describeZodError } from '../../../config/zodError.js';
import { configsUsingModel } from '../../db/sql/configsUsingModel.js';
import { findModelBySha } from '../../db/sql/findModelBySha.js';
import { getModel } from '../../db/sql/getModel.js';
import { insertModel, type NewModel } from '../../db/sql/insertModel.js';
import { listModels } from '../../db/sql/listModels.js';
import { lockModel } from '../../db/sql/lockModel.js';
import { lockModelBlobState, setModelObjectUrl } from '../../db/sql/modelBlobs.js';
import { restoreModel } from '../../db/sql/restoreModel.js';
import { softDeleteModel } from '../../db/sql/softDeleteModel.js';
import { unfinishedRunsUsingModel } from '../../db/sql/unfinishedRunsUsingModel.js';
import { withTransaction } from '../../db/tx.js';
import type { ApiContext, ZodApp } from '../context.js';
import { ApiError, badRequest, conflict, notFound } from '../errors.js';
import { parseLabelsFile } from '../labels.js';
import type { Placement, SavedUpload } from '../modelStore.js';
import { findBadString } from '../strings.js';
import { errorSchema, idParamsSchema, modelFieldsSchema, modelSchema, noContent } from '../schemas.js';
import { modelView } from '../views.js';

/** A labels file is a few KB (COCO: 80 lines); anything near this is not a labels file. */
const MAX_LABELS_BYTES = 1 << 20;
const FIELDS = new Set(['name', 'format']);
const errors = { 400: errorSchema, 404: errorSchema, 409: errorSchema, 413: errorSchema, 415: errorSchema, 422: errorSchema };
/** The upload also answers 503 when the S3 store its weights go to is down (nothing stored: send it again). */
const uploadErrors = { ...errors, 503: errorSchema };

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
          'Validated in onnxruntime-node before anything is stored. The same weights again answer 200 with the stored model. ' +
          'Weights of SIE_MODEL_S3_MIN_BYTES or more go to the S3 store when SIE_MODEL_S3_URL is set; 503 (model_store_unavailable) when it is down, nothing stored.',
        consumes: ['multipart/form-data'],
        response: { 200: modelSchema, 201: modelSchema, ...uploadErrors },
      },
    },
    async (req, reply) => {
      const up: Upload = { fields: {} };
      let result: Awaited<ReturnType<typeof storeUpload>>;
      try {
        await readParts(req, ctx, up);
        result = await storeUpload(ctx, up);
      } finally {
        // Before the answer goes, so a client that lists the store after it never sees a temp file. After a
        // successful commit the temp files were renamed away and these are no-ops.
        await ctx.store.discard(up.weights);
        await ctx.store.discard(up.labels);
      }
      return reply.code(result.status).send(result.body);
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
        summary: 'Delete a model (409 while a config or an unfinished run uses it)',
        params: idParamsSchema,
        response: { 204: noContent, ...errors },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      await withTransaction(ctx.pool, async (c) => {
        // The lock first: configs and runs being written against this model finish before the checks read.
        if (!(await lockModel(c, id))) throw notFound('model', id);
        const n = await unfinishedRunsUsingModel(c, id);
        if (n > 0) throw conflict(`model ${id} is used by ${n} unfinished run(s); stop them first`);
        // A config whose model is gone can start no run and accept no PUT: refuse rather than break it.
        const using = await configsUsingModel(c, id);
        if (using.total > 0) {
          const names = using.configs.map((x) => `${x.id} (${JSON.stringify(x.name)})`).join(', ');
          const more = using.total > using.configs.length ? ` and ${using.total - using.configs.length} more` : '';
          throw conflict(`model ${id} is used by ${using.total} config(s): ${names}${more}; delete them or change their model_id first`);
        }
        await softDeleteModel(c, id);
      });
      return reply.code(204).send(null);
    },
  );
}

/**
 * Streams the parts to temp files and collects the fields. A body busboy cannot read (no boundary, garbage,
 * cut short) is the caller's fault: 400, not 500. Errors of our own (a full disk) keep their 500.
 */
async function readParts(req: FastifyRequest, ctx: ApiContext, up: Upload): Promise<void> {
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
  } catch (err) {
    throw asMultipartError(err);
  }
}

function asMultipartError(err: unknown): unknown {
  if (err instanceof ApiError || !(err instanceof Error)) return err;
  // Fastify's and @fastify/multipart's own errors carry their status (413 limits, 415 not multipart).
  if ((err as { statusCode?: number }).statusCode !== undefined) return err;
  // A system call that failed (ENOSPC, EACCES) is ours.
  if ((err as NodeJS.ErrnoException).syscall !== undefined) return err;
  return badRequest(`body: malformed multipart/form-data (${err.message})`);
}

/** Everything after the parts are on disk: check, validate, then store the row and the files all or nothing. */
async function storeUpload(ctx: ApiContext, up: Upload): Promise<{ status: 200 | 201; body: ReturnType<typeof modelView> }> {
  if (!up.weights) throw badRequest('file: required (the ONNX weights)');
  if (!up.labels) throw badRequest('labels: required (a text file, one class name a line)');
  // Multipart fields do not go through the app's preValidation check (the body is streamed): the same check here.
  const badField = findBadString(up.fields);
  if (badField) throw badRequest(`${badField.path}: ${badField.reason}`);
  const parsed = modelFieldsSchema.safeParse(up.fields);
  if (!parsed.success) throw badRequest(describeZodError(parsed.error));
  const { name, format } = parsed.data;
  const weights = up.weights;
  const labelsFile = up.labels;
  const labels = parseLabelsFile(await readFile(labelsFile.path), labelsFile.filename);

  const existing = await findModelBySha(ctx.pool, weights.sha256);
  if (existing && !existing.deleted_at) {
    if (existing.format === format && sameLabels(existing.labels, labels)) return { status: 200, body: modelView(existing) };
    throw conflict(
      `file: these weights are already model ${existing.id} ("${existing.name}", ${existing.format}, ` +
        `${existing.labels.length} labels) with other labels or format; delete it first to replace them`,
    );
  }

  const size = await ctx.store.validate(weights, labels, format);
  const rel = ctx.store.relativePaths(weights.sha256);
  // Big weights go to the S3 store when there is one. Only weights that are nowhere yet: a deleted model
  // uploaded again keeps them where they are.
  const needsWeights = !existing || (existing.blob_chunks === null && existing.object_url === null);
  const objects = ctx.objects;
  // Before the transaction opens: no transaction (nor one of the pool's connections) is held over a network
  // upload of hundreds of MB. The key is the sha256, so if the transaction then fails the object is an orphan
  // the next upload of these bytes writes again and uses; it is not deleted, as a concurrent upload of the
  // same bytes may have committed a row naming it. A store that is down throws ModelStoreUnavailableError
  // (503) here, before any row.
  const objectUrl = objects && needsWeights && objects.takes(weights.size) ? await objects.put(weights.sha256, weights.path) : undefined;
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
    ...(objectUrl ? { objectUrl } : {}),
  };
  // The row is written first, then its weights into model_blobs (or its object's URL), and the files moved in before COMMIT: an upload that loses a race for the same
  // bytes (no row comes back) never touches the files, and one whose transaction fails takes its files back.
  // One upload of given bytes at a time in this process, from the insert to the undo: a second upload of the
  // same bytes, blocked on the row's unique key, would otherwise reuse the files a failed first one then removes.
  const created = await oneAtATime(weights.sha256, async () => {
    let placement: Placement | undefined;
    try {
      const r = await withTransaction(ctx.pool, async (c) => {
        const inserted = existing ? await restoreModel(c, existing.id, row) : await insertModel(c, row);
        if (!inserted) return undefined;
        // The weights into the database in this transaction (every engine reads them there), or the S3
        // object's URL; a restored model has them already, unless it was uploaded before the shared store.
        const state = await lockModelBlobState(c, weights.sha256);
        if (state && state.blob_chunks === null && state.object_url === null) {
          if (objectUrl) await setModelObjectUrl(c, weights.sha256, objectUrl);
          else await ctx.store.storeBlob(c, weights);
        }
        placement = await ctx.store.place(weights, labelsFile);
        // Read back: the row as it commits, with where its weights are (blob_chunks is set after the insert).
        return findModelBySha(c, weights.sha256);
      });
      await placement?.done();
      return r;
    } catch (err) {
      if (placement && !(await committedAnyway(ctx, weights.sha256))) await placement.undo();
      throw err;
    }
  });
  if (created) return { status: 201, body: modelView(created) };
  // Another upload of the same bytes won the race between our check and our insert: answer with its row.
  const winner = await findModelBySha(ctx.pool, weights.sha256);
  if (!winner || winner.deleted_at) throw new Error(`model ${weights.sha256} vanished while being stored`);
  return { status: 200, body: modelView(winner) };
}

const inFlight = new Map<string, Promise<unknown>>();

/** Runs `fn` after every earlier call with the same key has settled. */
async function oneAtATime<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const before = inFlight.get(key) ?? Promise.resolve();
  const mine = before.catch(() => undefined).then(fn);
  inFlight.set(key, mine);
  try {
    return await mine;
  } finally {
    if (inFlight.get(key) === mine) inFlight.delete(key);
  }
}

/**
 * A COMMIT that failed on the wire may still have committed: removing the files then would break a live
 * model, so they are taken back only when the row is known to be absent (an unreachable database keeps them).
 */
async function committedAnyway(ctx: ApiContext, sha256: string): Promise<boolean> {
  try {
    const m = await findModelBySha(ctx.pool, sha256);
    return m !== undefined && m.deleted_at === null;
  } catch {
    return true;
  }
}

function sameLabels(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
