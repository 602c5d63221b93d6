import type { ServerResponse } from 'node:http';
import type { Pool } from 'pg';
import { silentLogger, type Logger } from '../log.js';
import { redactText } from '../redact.js';
import { listRunEvents } from '../io/db/sql/listRunEvents.js';
import { storedEventFromRow } from './view.js';
import { createWaker, rateLimited } from './waker.js';

export interface SseOptions {
  pool: Pool;
  runId: string;
  /** Send events with seq > since (the ?since= query or the Last-Event-ID header). */
  since: string;
  /** Table poll (default 250 ms): the run may execute in another process, so the table is the source. */
  pollMs?: number;
  /** A comment line this often (default 15 s) keeps proxies from closing an idle stream. */
  heartbeatMs?: number;
  logger?: Logger;
}

export interface SseStream {
  /** Resolves when the stream ended (client gone, or close()). */
  readonly done: Promise<void>;
  /** Ends the stream from the server side (API shutdown). */
  close(): void;
}

const BATCH = 500;

/** Resolves when the socket can take more, or is gone: a slow reader pauses its own polling, nothing else. */
function writable(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Streams a run's events as Server-Sent Events on a response whose headers are not yet sent: `id: <seq>`,
 * `event: rule`, `data: <StoredEvent JSON>` (one line: JSON has no raw newlines). A browser EventSource
 * reconnects by itself with Last-Event-ID = the last seq it saw, so it gets exactly the newer events.
 */
export function streamRunEvents(res: ServerResponse, opts: SseOptions): SseStream {
  const pollMs = opts.pollMs ?? 250;
  const log = (opts.logger ?? silentLogger).child({ component: 'sse', run_id: opts.runId });
  const logError = rateLimited(10_000);
  const waker = createWaker();
  let cursor = opts.since;
  let closed = false;

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    // Not reusable after the stream: closed with it, so neither side keeps an idle socket (nor does
    // the API's close() wait for one).
    connection: 'close',
    'x-accel-buffering': 'no', // nginx would otherwise buffer the stream
  });
  // The first bytes flush the headers at once; `retry` asks clients to come back after 1 s, not 3.
  res.write(': stream of rule events\nretry: 1000\n\n');
  const heartbeat = setInterval(() => {
    if (!closed) res.write(': heartbeat\n\n');
  }, opts.heartbeatMs ?? 15_000);
  res.on('close', () => {
    closed = true;
    waker.wake();
  });

  async function run(): Promise<void> {
    while (!closed) {
      let sent = 0;
      try {
        const rows = await listRunEvents(opts.pool, { runId: opts.runId, since: cursor, limit: BATCH });
        sent = rows.length;
        if (rows.length > 0 && !closed) {
          let chunk = '';
          for (const r of rows) chunk += `id: ${r.seq}\nevent: rule\ndata: ${JSON.stringify(storedEventFromRow(r))}\n\n`;
          cursor = rows[rows.length - 1]!.seq;
          if (!res.write(chunk)) await writable(res);
        }
      } catch (err) {
        // The database is down: the client keeps its connection and gets the events once it is back.
        logError((suppressed) => log.warn({ err: redactText((err as Error).message), suppressed }, 'SSE poll failed'));
      }
      if (sent < BATCH) await waker.wait(pollMs);
    }
  }

  const done = run().finally(() => {
    clearInterval(heartbeat);
    if (!res.writableEnded) res.end();
  });
  return {
    done,
    close() {
      closed = true;
      waker.wake();
    },
  };
}
