import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, badRequest } from './errors.js';
import { JsonSyntaxError, parseStrictJson } from './json.js';
import { findBadString, firstInvalidUtf8 } from './strings.js';

/**
 * What every request passes before a route sees it: bodies are JSON in UTF-8 (anything else is a 415, never a
 * guess), decoded strictly (invalid UTF-8 is a 400, not U+FFFD) and parsed strictly (duplicate keys, NaN,
 * oversized numbers are 400s with a line and column); then every string of the body, the query string and
 * the path parameters is checked for what the database cannot store. One mechanism for every route, so a
 * field added later is covered without anyone remembering to.
 */
export function installEdgeChecks(app: FastifyInstance): void {
  // text/plain would reach a JSON route as a string; no route takes text, so it is a 415 like any other type.
  app.removeContentTypeParser('text/plain');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req: FastifyRequest, body: Buffer, done) => {
    try {
      done(null, parseJsonBody(req.headers['content-type'], body));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  app.addHook('preValidation', async (req) => {
    const parts: [string, unknown][] = [
      ['path', req.params],
      ['querystring', req.query],
      ['body', req.body],
    ];
    for (const [where, value] of parts) {
      const bad = findBadString(value);
      if (bad) throw badRequest(`${bad.path || where}: ${bad.reason}`);
    }
  });
}

const CHARSET = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i;

/** A JSON body as a value: utf-8 only, strictly decoded and parsed; an empty body is no body. */
export function parseJsonBody(contentType: string | undefined, body: Buffer): unknown {
  const m = CHARSET.exec(contentType ?? '');
  const charset = m ? (m[1] ?? m[2] ?? '').toLowerCase() : 'utf-8';
  if (charset !== 'utf-8' && charset !== 'utf8') {
    throw new ApiError(415, 'unsupported_media_type', `content-type: charset "${charset}" is not supported; send JSON in UTF-8`);
  }
  // A DELETE or POST without a body but with the header: no body, and the route's schema decides.
  if (body.length === 0) return undefined;
  const bad = isUtf8(body) ? -1 : firstInvalidUtf8(body);
  if (bad >= 0) throw badRequest(`body: invalid UTF-8 at byte ${bad}`);
  // TextDecoder drops a leading byte order mark, which RFC 8259 allows a parser to ignore.
  const text = new TextDecoder('utf-8').decode(body);
  try {
    return parseStrictJson(text);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw badRequest(`body: invalid JSON: ${err.message}`);
    throw err;
  }
}
