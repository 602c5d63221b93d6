import { z } from 'zod';
import type { Logger } from '../../../log.js';
import { streamRunEvents, type SseStream } from '../../../events/sse.js';
import { storedEventFromRow } from '../../../events/view.js';
import { listRunEvents } from '../../db/sql/listRunEvents.js';
import { runExists } from '../../db/sql/runExists.js';
import type { ApiContext, ZodApp } from '../context.js';
import { notFound } from '../errors.js';
import { errorSchema, idParamsSchema } from '../schemas.js';

export interface EventRouteOptions {
  /** SSE table poll (default 250 ms). */
  pollMs?: number;
  /** SSE heartbeat comment interval (default 15 s). */
  heartbeatMs?: number;
}

/** A seq cursor: digits only (a bigint in the table; 18 digits stay below its maximum). */
const seqCursor = z.string().regex(/^\d{1,18}$/, 'expected a sequence number (an integer ≥ 0)');

const eventsQuerySchema = z.strictObject({
  since: seqCursor.default('0').describe('only events with seq > since: pass the previous answer’s next_since'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const streamQuerySchema = z.strictObject({
  since: seqCursor.optional().describe('start after this seq (default 0: from the oldest kept event)'),
});
const streamHeadersSchema = z.object({
  'last-event-id': seqCursor.optional().describe('sent by EventSource on reconnect; wins over ?since='),
});

const ruleEventSchema = z.object({
  seq: z.number().describe('order in the table; the cursor for ?since= and Last-Event-ID'),
  id: z.string().describe('deterministic: the idempotency key every sink uses'),
  run_id: z.uuid(),
  client_id: z.string(),
  rule_id: z.string(),
  type: z.string().describe('enter, leave, dwell, cross, started, ended'),
  track_id: z.number().nullable().describe('null for zone-wide events'),
  class: z.string().nullable(),
  direction: z.enum(['in', 'out']).optional().describe('only on cross'),
  frame_id: z.number().describe('the frame the event happened on (a debounced enter, leave or cross: where it happened, emitted later on extra.confirmed_frame_id)'),
  trace_id: z.string().optional().describe("with tracing on: the OpenTelemetry trace of the frame that emitted it (extra.confirmed_frame_id if present, else frame_id; 32 hex digits), always kept"),
  span_id: z.string().optional().describe("with tracing on: that frame's root span (16 hex digits)"),
  pts: z.number().describe('source pts of that frame, seconds'),
  time: z.string().describe('ISO 8601, from the source pts'),
  box: z.array(z.number()).nullable().describe('normalised xyxy'),
  extra: z.record(z.string(), z.unknown()),
});
const eventPageSchema = z.object({
  events: z.array(ruleEventSchema),
  next_since: z.number().describe('pass as ?since= to get the next page (unchanged when there was nothing new)'),
});

const errors = { 400: errorSchema, 404: errorSchema };

/**
 * A run's events, read from the events table (the engine may run in another process): a paged list and a
 * Server-Sent Events stream. Streams still open when the API closes are ended first, or close() would
 * wait for their clients forever.
 */
export function eventRoutes(app: ZodApp, ctx: ApiContext, opts: EventRouteOptions = {}): void {
  const open = new Set<SseStream>();
  app.addHook('preClose', async () => {
    const streams = [...open];
    for (const s of streams) s.close();
    await Promise.all(streams.map((s) => s.done));
  });

  app.get(
    '/v1/runs/:id/events',
    {
      schema: {
        tags: ['events'],
        summary: "A run's events, oldest first, after a cursor",
        params: idParamsSchema,
        querystring: eventsQuerySchema,
        response: { 200: eventPageSchema, ...errors },
      },
    },
    async (req) => {
      const { id } = req.params;
      const rows = await listRunEvents(ctx.pool, { runId: id, since: req.query.since, limit: req.query.limit });
      if (rows.length === 0 && !(await runExists(ctx.pool, id))) throw notFound('run', id);
      const events = rows.map(storedEventFromRow);
      return { events, next_since: events.length > 0 ? events[events.length - 1]!.seq : Number(req.query.since) };
    },
  );

  app.get(
    '/v1/runs/:id/events/stream',
    {
      schema: {
        tags: ['events'],
        summary: "A run's events as Server-Sent Events (text/event-stream): id = seq, event = rule, data = the event",
        params: idParamsSchema,
        querystring: streamQuerySchema,
        headers: streamHeadersSchema,
        response: errors,
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      if (!(await runExists(ctx.pool, id))) throw notFound('run', id);
      const since = req.headers['last-event-id'] ?? req.query.since ?? '0';
      // From here the response is ours, not Fastify's: it stays open and is written as events come.
      reply.hijack();
      const stream = streamRunEvents(reply.raw, {
        pool: ctx.pool,
        runId: id,
        since,
        pollMs: opts.pollMs,
        heartbeatMs: opts.heartbeatMs,
        // The app's logger is the pino Logger buildApi was given (FastifyBaseLogger is its narrower type).
        logger: req.log as unknown as Logger,
      });
      open.add(stream);
      req.log.debug({ run_id: id, since, open: open.size }, 'SSE stream started');
      void stream.done.finally(() => {
        open.delete(stream);
        req.log.debug({ run_id: id, open: open.size }, 'SSE stream ended');
      });
    },
  );
}
