import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventStore, type EventStore } from '../../../src/events/store.js';
import { updateRunCounters } from '../../../src/events/counters.js';
import { buildApi } from '../../../src/io/http/app.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { insertRunRow, ruleEvent } from '../../events/helpers.js';
import { until } from '../../helpers/processes.js';

let db: TestDatabase;
let app: FastifyInstance;
let base: string;
let dataDir: string;
let store: EventStore;
/** The API's log (debug): the SSE route logs each stream's start and end. */
const logLines: { msg: string; run_id?: string; open?: number }[] = [];
const logSink = new Writable({
  write(chunk: Buffer, _enc, cb) {
    logLines.push(JSON.parse(chunk.toString()));
    cb();
  },
});

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), 'sie-events-'));
  app = await buildApi({ pool: db.pool, dataDir, logger: pino({ level: 'debug' }, logSink), events: { pollMs: 50, heartbeatMs: 300 } });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  store = createEventStore(db.pool, undefined, { flushIntervalMs: 20 });
});
afterAll(async () => {
  await store.close();
  // fetch (undici) may keep a spare idle socket open after an abort; it would hold close() for 4 s.
  const closing = app.close();
  app.server.closeAllConnections();
  await closing;
  await db.drop();
  await rm(dataDir, { recursive: true, force: true });
});

const UNKNOWN = '00000000-0000-4000-8000-000000000000';

describe('GET /v1/runs/{id}/events', () => {
  it('pages by seq with since/limit; each event is the RuleEvent plus its seq', async () => {
    const { runId } = await insertRunRow(db.pool);
    const events = Array.from({ length: 15 }, (_, i) => ruleEvent(runId, i));
    const { direction: _d, ...zone } = ruleEvent(runId, 99, { type: 'enter', track_id: null, class: null, box: null });
    store.append([...events, zone]);
    await store.flush();

    const first = await app.inject(`/v1/runs/${runId}/events?limit=10`);
    expect(first.statusCode, first.body).toBe(200);
    const p1 = first.json();
    expect(p1.events).toHaveLength(10);
    expect(p1.events[0]).toEqual({ ...events[0], seq: expect.any(Number) });
    expect(p1.next_since).toBe(p1.events[9].seq);
    const p2 = (await app.inject(`/v1/runs/${runId}/events?since=${p1.next_since}`)).json();
    expect(p2.events.map((e: { id: string }) => e.id)).toEqual([...events.slice(10), zone].map((e) => e.id));
    expect(p2.events[5]).not.toHaveProperty('direction'); // zone-wide events keep the engine's shape
    const seqs = [...p1.events, ...p2.events].map((e: { seq: number }) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const p3 = (await app.inject(`/v1/runs/${runId}/events?since=${p2.next_since}`)).json();
    expect(p3).toEqual({ events: [], next_since: p2.next_since });
  });

  it("an event of a traced frame carries its trace_id and span_id, stored and served; one of an untraced frame has neither", async () => {
    const { runId } = await insertRunRow(db.pool);
    const traced = { ...ruleEvent(runId, 0), trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331' };
    const plain = ruleEvent(runId, 1);
    store.append([traced, plain]);
    await store.flush();
    const r = await app.inject(`/v1/runs/${runId}/events`);
    expect(r.statusCode, r.body).toBe(200);
    const [a, b] = r.json().events;
    expect(a).toEqual({ ...traced, seq: expect.any(Number) });
    expect(b).toEqual({ ...plain, seq: expect.any(Number) });
    expect(b).not.toHaveProperty('trace_id');
    const schema = (await app.inject('/openapi.json')).json();
    expect(JSON.stringify(schema)).toContain('the OpenTelemetry trace of the frame that emitted it');
  });

  it('404 for an unknown run, 400 for a bad cursor or limit', async () => {
    const { runId } = await insertRunRow(db.pool);
    expect((await app.inject(`/v1/runs/${runId}/events`)).json()).toEqual({ events: [], next_since: 0 });
    const missing = await app.inject(`/v1/runs/${UNKNOWN}/events`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toBe('not_found');
    for (const q of ['since=abc', 'since=-1', 'since=1.5', 'limit=0', 'limit=5000', 'other=1']) {
      const r = await app.inject(`/v1/runs/${runId}/events?${q}`);
      expect(r.statusCode, q).toBe(400);
    }
    expect((await app.inject(`/v1/runs/${UNKNOWN}/events/stream`)).statusCode).toBe(404);
    const badHeader = await app.inject({ url: `/v1/runs/${runId}/events/stream`, headers: { 'last-event-id': 'x' } });
    expect(badHeader.statusCode).toBe(400);
    expect(badHeader.json().detail).toMatch(/last-event-id/);
  });
});

describe('GET /v1/runs/{id} counters', () => {
  it('shows the counters the engine wrote, null before', async () => {
    const { runId } = await insertRunRow(db.pool);
    expect((await app.inject(`/v1/runs/${runId}`)).json()).toMatchObject({ counters: null, counters_at: null });
    await db.pool.query(
      `INSERT INTO engines (id, hostname, advertise_host, rtsp_port, max_runs, lease_expires_at)
       VALUES ('e1', 'h', 'h', 8554, 4, now() + interval '1 minute') ON CONFLICT DO NOTHING`,
    );
    await db.pool.query(`UPDATE runs SET engine_id = 'e1', lease_epoch = 3 WHERE id = $1`, [runId]);
    expect(await updateRunCounters(db.pool, 'e1', [{ runId, leaseEpoch: '3', countersJson: JSON.stringify({ door: { in: 4, out: 2 } }) }])).toEqual(new Set([runId]));
    const run = (await app.inject(`/v1/runs/${runId}`)).json();
    expect(run.counters).toEqual({ door: { in: 4, out: 2 } });
    expect(Date.parse(run.counters_at)).toBeGreaterThan(Date.now() - 60_000);
  });
});

interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/** A real SSE client on fetch: collects parsed messages until abort(). */
function sseClient(url: string, headers: Record<string, string> = {}) {
  const ctrl = new AbortController();
  const messages: SseMessage[] = [];
  const ready = fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: ctrl.signal });
  const reading = (async () => {
    const res = await ready;
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const m: SseMessage = {};
          for (const line of buf.slice(0, i).split('\n')) {
            if (line.startsWith(':')) m.comment = line.slice(1).trim();
            const [k, ...v] = line.split(': ');
            if (k === 'id' || k === 'event' || k === 'data') m[k] = v.join(': ');
          }
          messages.push(m);
          buf = buf.slice(i + 2);
        }
      }
    } catch {
      // aborted
    }
  })();
  const rules = () => messages.filter((m) => m.event === 'rule');
  return { ready, messages, rules, close: async () => (ctrl.abort(), await reading) };
}

describe('GET /v1/runs/{id}/events/stream (SSE)', () => {
  it('streams new events in order; a reconnect with Last-Event-ID gets only newer ones', async () => {
    const { runId } = await insertRunRow(db.pool);
    const url = `${base}/v1/runs/${runId}/events/stream`;
    const a = sseClient(url);
    const res = await a.ready;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);

    const first = [0, 1, 2, 3].map((i) => ruleEvent(runId, i));
    for (const e of first) store.append([e]);
    await until(() => a.rules().length === 4, 10_000, '4 events on the stream');
    const got = a.rules().map((m) => ({ id: m.id, event: JSON.parse(m.data!) }));
    expect(got.map((g) => g.event.id)).toEqual(first.map((e) => e.id));
    for (const g of got) expect(g.event.seq).toBe(Number(g.id));
    expect(got[0]!.event).toEqual({ ...first[0], seq: expect.any(Number) });
    await until(() => a.messages.some((m) => m.comment === 'heartbeat'), 5000, 'a heartbeat');
    await a.close();

    const next = [4, 5].map((i) => ruleEvent(runId, i));
    store.append(next);
    await store.flush();
    const b = sseClient(url, { 'last-event-id': got[3]!.id! });
    await until(() => b.rules().length === 2, 10_000, 'the 2 newer events');
    expect(b.rules().map((m) => JSON.parse(m.data!).id)).toEqual(next.map((e) => e.id));

    // ?since= (a first connection that knows where it was) works the same way.
    const c = sseClient(`${url}?since=${got[1]!.id}`);
    await until(() => c.rules().length === 4, 10_000, 'events after since');
    expect(c.rules().map((m) => JSON.parse(m.data!).id)).toEqual([...first.slice(2), ...next].map((e) => e.id));
    await Promise.all([b.close(), c.close()]);
  });

  it('a client that goes away is let go: its stream (and its polling) ends', async () => {
    const { runId } = await insertRunRow(db.pool);
    const ofRun = (msg: string) => logLines.filter((l) => l.msg === msg && l.run_id === runId);
    const clients = [0, 1, 2].map(() => sseClient(`${base}/v1/runs/${runId}/events/stream`));
    await Promise.all(clients.map((c) => c.ready));
    await until(() => ofRun('SSE stream started').length === 3, 5000, '3 streams');
    await clients[0]!.close();
    await until(() => ofRun('SSE stream ended').length === 1, 5000, 'the first stream to end');
    await Promise.all(clients.slice(1).map((c) => c.close()));
    await until(() => ofRun('SSE stream ended').length === 3, 5000, 'all streams to end');
    expect(ofRun('SSE stream ended').at(-1)!.open).toBe(0);
  });

  it('closing the API ends the streams still open', async () => {
    const other = await buildApi({ pool: db.pool, dataDir, events: { pollMs: 50 } });
    const url = await other.listen({ port: 0, host: '127.0.0.1' });
    const { runId } = await insertRunRow(db.pool);
    const c = sseClient(`${url}/v1/runs/${runId}/events/stream`);
    await c.ready;
    const t0 = Date.now();
    await other.close();
    expect(Date.now() - t0).toBeLessThan(5000);
    await c.close();
  });
});
