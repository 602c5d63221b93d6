import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEventStore } from '../../src/events/store.js';
import { createConfigWebhookResolver, createWebhookDeliverer, type WebhookTarget } from '../../src/events/webhook.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { insertRunRow, ruleEvent } from './helpers.js';
import { until } from '../helpers/processes.js';

interface Received {
  key: string | undefined;
  auth: string | undefined;
  custom: string | undefined;
  body: { id: string; seq: number; run_id: string };
}

/** A local receiver; `answer` decides each request's fate (status, or 'hang' to never answer). */
async function receiver(answer: (body: Received['body'], tries: number) => number | 'hang' = () => 200) {
  const got: Received[] = [];
  const tries = new Map<string, number>();
  const hung: ServerResponse[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as Received['body'];
      const n = (tries.get(body.id) ?? 0) + 1;
      tries.set(body.id, n);
      const a = answer(body, n);
      if (a === 'hang') return void hung.push(res);
      if (a >= 200 && a < 300) {
        const h = req.headers;
        got.push({ key: h['idempotency-key'] as string, auth: h.authorization, custom: h['x-tenant'] as string, body });
      }
      res.writeHead(a).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    got,
    tries,
    close: () => {
      for (const r of hung) r.destroy();
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());
// Deliverers scan the whole table: each test starts with none left over from the one before.
// A deliverer left running by a failed test would steal the next tests' events: stop them all here.
const started: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((d) => d.stop()));
  await db.pool.query('DELETE FROM runs');
});
/** createWebhookDeliverer, started, and stopped after the test whatever happens. */
function deliverer(opts: Parameters<typeof createWebhookDeliverer>[0]): ReturnType<typeof createWebhookDeliverer> {
  const d = createWebhookDeliverer(opts);
  started.push(d);
  d.start();
  return d;
}

const fast = { pollMs: 100, backoffInitialS: 0.1, backoffMaxS: 0.4 };

describe('webhook deliverer', () => {
  it('POSTs every event once with its Idempotency-Key, credentials of the URL as Basic auth, custom headers', async () => {
    const rx = await receiver();
    const { runId } = await insertRunRow(db.pool);
    const u = new URL(rx.url);
    u.username = 'hook';
    u.password = 'p@ss';
    const target: WebhookTarget = { url: u.toString(), headers: { 'X-Tenant': 'acme' }, timeout_s: 5 };
    const store = createEventStore(db.pool, undefined, { flushIntervalMs: 20 });
    const hook = deliverer({ pool: db.pool, resolveWebhook: () => target, ...fast });
    store.onFlushed(() => hook.nudge());
    const events = Array.from({ length: 12 }, (_, i) => ruleEvent(runId, i));
    store.append(events);
    await until(() => hook.stats.delivered === 12, 10_000, '12 deliveries, marked in the table');
    expect(rx.got.length).toBe(12);
    expect(new Set(rx.got.map((g) => g.key))).toEqual(new Set(events.map((e) => e.id)));
    for (const g of rx.got) {
      expect(g.key).toBe(g.body.id);
      expect(g.body).toMatchObject({ run_id: runId, seq: expect.any(Number) });
      expect(g.auth).toBe(`Basic ${Buffer.from('hook:p@ss').toString('base64')}`);
      expect(g.custom).toBe('acme');
    }
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM events WHERE run_id = $1 AND webhook_delivered_at IS NOT NULL AND webhook_attempts = 1`,
      [runId],
    );
    expect(rows[0].n).toBe(12);
    await Promise.all([hook.stop(), store.close(), rx.close()]);
    expect(hook.stats).toMatchObject({ delivered: 12, failed: 0 });
  });

  it('retries with backoff: a receiver answering 500 to the first 2 tries still gets every event', async () => {
    const rx = await receiver((_b, n) => (n <= 2 ? 500 : 204));
    const { runId } = await insertRunRow(db.pool);
    const store = createEventStore(db.pool, undefined, { flushIntervalMs: 20 });
    const hook = deliverer({ pool: db.pool, resolveWebhook: () => ({ url: rx.url, timeout_s: 5 }), ...fast });
    store.append(Array.from({ length: 5 }, (_, i) => ruleEvent(runId, i)));
    await store.flush();
    await until(() => new Set(rx.got.map((g) => g.key)).size === 5, 15_000, 'all 5 after retries');
    for (const n of rx.tries.values()) expect(n).toBeGreaterThanOrEqual(3);
    const { rows } = await db.pool.query(`SELECT webhook_attempts FROM events WHERE run_id = $1`, [runId]);
    await until(async () => {
      const r = await db.pool.query(`SELECT count(*)::int AS n FROM events WHERE run_id = $1 AND webhook_delivered_at IS NULL`, [runId]);
      return r.rows[0].n === 0;
    }, 5000, 'all marked delivered');
    expect(rows.every((r) => r.webhook_attempts >= 3)).toBe(true);
    await Promise.all([hook.stop(), store.close(), rx.close()]);
  });

  it('a retry wakes the loop when it falls due, not at the idle poll', async () => {
    const rx = await receiver((_b, n) => (n <= 1 ? 500 : 204));
    const { runId } = await insertRunRow(db.pool);
    const store = createEventStore(db.pool, undefined, { flushIntervalMs: 20 });
    // An idle poll longer than the test's timeout: only the next due time can bring the retry.
    const hook = deliverer({ pool: db.pool, resolveWebhook: () => ({ url: rx.url, timeout_s: 5 }), pollMs: 600_000, backoffInitialS: 0.3, backoffMaxS: 0.3 });
    store.onFlushed(() => hook.nudge());
    store.append([ruleEvent(runId, 0)]);
    await until(() => hook.stats.failed === 1, 10_000, 'the first try failed');
    await until(() => hook.stats.delivered === 1, 10_000, 'the retry delivered');
    expect([...rx.tries.values()]).toEqual([2]);
    await Promise.all([hook.stop(), store.close(), rx.close()]);
  });

  it('a receiver that never answers blocks neither the store nor another receiver', async () => {
    const dead = await receiver(() => 'hang');
    const live = await receiver();
    const { runId: deadRun } = await insertRunRow(db.pool);
    const { runId: liveRun } = await insertRunRow(db.pool);
    const store = createEventStore(db.pool, undefined, { flushIntervalMs: 20 });
    const targets = new Map([
      [deadRun, { url: dead.url, timeout_s: 1 }],
      [liveRun, { url: live.url, timeout_s: 1 }],
    ]);
    const hook = deliverer({ pool: db.pool, resolveWebhook: (r) => targets.get(r), concurrency: 4, ...fast });
    store.onFlushed(() => hook.nudge());
    store.append(Array.from({ length: 10 }, (_, i) => ruleEvent(deadRun, i)));
    await store.flush();
    store.append(Array.from({ length: 3 }, (_, i) => ruleEvent(liveRun, i)));
    await store.flush(); // the store writes although every webhook slot may be waiting on the dead receiver
    await until(() => live.got.length === 3, 10_000, 'the live receiver gets its events');
    await until(() => hook.stats.failed >= 1, 10_000, 'a timeout');
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM events WHERE run_id = $1 AND webhook_delivered_at IS NULL`, [deadRun]);
    expect(rows[0].n).toBe(10); // kept for later
    await Promise.all([hook.stop(), store.close(), dead.close(), live.close()]);
  });

  it('runs without a webhook are skipped; the resolver reads the config version of the run', async () => {
    const rx = await receiver();
    const { runId: withHook } = await insertRunRow(db.pool, { body: { rules: [], webhook: { url: rx.url, timeout_s: 2 } } });
    const { runId: without } = await insertRunRow(db.pool);
    const resolve = createConfigWebhookResolver(db.pool);
    expect(await resolve(withHook)).toEqual({ url: rx.url, timeout_s: 2 });
    expect(await resolve(without)).toBeUndefined();
    const store = createEventStore(db.pool);
    store.append([ruleEvent(withHook, 1), ruleEvent(without, 2)]);
    await store.flush();
    const hook = deliverer({ pool: db.pool, ...fast });
    await until(() => rx.got.length === 1 && hook.stats.skipped === 1, 10_000, 'one delivery and one skip');
    expect(rx.got[0]!.body.run_id).toBe(withHook);
    const { rows } = await db.pool.query(`SELECT webhook_next_at, webhook_delivered_at FROM events WHERE run_id = $1`, [without]);
    expect(rows).toEqual([{ webhook_next_at: null, webhook_delivered_at: null }]);
    await Promise.all([hook.stop(), store.close(), rx.close()]);
  });

  it('two deliverers on one table send each event once when the receiver succeeds', async () => {
    const rx = await receiver();
    const { runId } = await insertRunRow(db.pool);
    const store = createEventStore(db.pool);
    store.append(Array.from({ length: 40 }, (_, i) => ruleEvent(runId, i)));
    await store.flush();
    const opts = { pool: db.pool, resolveWebhook: () => ({ url: rx.url, timeout_s: 5 }), concurrency: 3, ...fast };
    const a = deliverer(opts);
    const b = deliverer(opts);
    // Counted by the deliverers once marked (stopping earlier would abort a request the receiver already
    // counted, and hand its event back for a second, legitimate, at-least-once delivery).
    await until(() => a.stats.delivered + b.stats.delivered === 40, 10_000, '40 deliveries');
    await Promise.all([a.stop(), b.stop()]);
    expect(rx.got.length).toBe(40);
    expect(new Set(rx.got.map((g) => g.key)).size).toBe(40);
    await Promise.all([store.close(), rx.close()]);
  });
});
