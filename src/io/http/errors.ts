import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ModelStoreUnavailableError } from '../../errors.js';
import { redactText } from '../../redact.js';

/** The `error` word of every error body; clients switch on it, `detail` is for people. */
export type ApiErrorCode =
  | 'validation'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'unsupported_media_type'
  | 'unprocessable'
  | 'unavailable'
  | 'model_store_unavailable'
  | 'internal';

/** Thrown by handlers; the error handler turns it into `{error, detail}` with its status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

export const notFound = (what: string, id: string): ApiError => new ApiError(404, 'not_found', `${what} ${id} does not exist`);
export const conflict = (detail: string): ApiError => new ApiError(409, 'conflict', detail);
export const unprocessable = (detail: string): ApiError => new ApiError(422, 'unprocessable', detail);
export const badRequest = (detail: string): ApiError => new ApiError(400, 'validation', detail);

/** `inference.confidence: Too big…` per issue; a root issue is named by where it was (body, querystring). */
function describeValidation(err: FastifyError): string {
  const where = err.validationContext ?? 'body';
  return (err.validation ?? [])
    .map((v) => {
      const path = v.instancePath.replace(/^\//, '').split('/').filter(Boolean).join('.');
      return `${path || where}: ${v.message ?? 'invalid'}`;
    })
    .join('; ');
}

/** Fastify's own request errors (bad JSON, wrong content type, body too big, multipart limits). */
function fromFastifyError(err: FastifyError): ApiError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new ApiError(415, 'unsupported_media_type', `body: ${err.message}`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new ApiError(413, 'too_large', `body: ${err.message}`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return badRequest(`body: ${err.message}`);
  }
  if (err instanceof SyntaxError || (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500)) {
    return new ApiError(err.statusCode ?? 400, 'validation', `body: ${err.message}`);
  }
  return undefined;
}

/**
 * Errors the router raises before any route or hook runs (Fastify's `frameworkErrors` option): a path that
 * is not valid percent-encoding, or a path parameter longer than the router's limit. Without this they leave
 * in Fastify's own `{error, code, message}` shape.
 */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const detail =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? `path: a parameter is longer than ${MAX_PARAM_LENGTH} characters`
      : err.code === 'FST_ERR_BAD_URL'
        ? 'path: not a valid URL path (bad percent-encoding)'
        : `path: ${err.message}`;
  void reply.code(400).type('application/json').send({ error: 'validation', detail });
}

/** Fastify's default router limit, named so the message above can quote it. */
export const MAX_PARAM_LENGTH = 100;

/**
 * Every error leaves as JSON `{error, detail}`. Unknown errors are logged (as redacted text: a pg error's
 * `detail` can quote a whole row, camera URL included) and answered 500 without internals.
 */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    let e: ApiError | undefined;
    if (err instanceof ApiError) e = err;
    else if (err instanceof ModelStoreUnavailableError) {
      // Not our bug and not the client's: the store is down or refusing. Logged without a stack (the SDK's
      // carries nothing useful), answered 503 so the client knows to send the same upload again later.
      req.log.warn({ store: err.store, error: redactText(err.message) }, 'model store unavailable');
      e = new ApiError(503, 'model_store_unavailable', `${err.message}; nothing was stored, send the upload again later`);
    } else if (hasZodFastifySchemaValidationErrors(err)) e = badRequest(describeValidation(err));
    else e = fromFastifyError(err);
    if (!e) {
      const pgDetail = (err as { detail?: unknown }).detail;
      req.log.error(
        { error: redactText(err.stack ?? err.message), pgDetail: typeof pgDetail === 'string' ? redactText(pgDetail) : undefined },
        'request failed',
      );
      e = new ApiError(500, 'internal', 'internal error; see the server log');
    }
    return reply.code(e.status).type('application/json').send({ error: e.code, detail: redactText(e.detail) });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: 'not_found', detail: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );
}
