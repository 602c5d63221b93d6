import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { stopAllProcesses } from '../../src/io/ffmpeg/process.js';
import { createLogger, silentLogger } from '../../src/log.js';
import type { Engine } from '../../src/engine/engine.js';
import { startCamera } from '../helpers/cameras.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startEngine, stopAllEngines } from '../helpers/engineHarness.js';
import { insertModelAndConfig, insertRun, waitForRun } from '../helpers/engineFixtures.js';
import { freePort, killAll, sleep } from '../helpers/processes.js';
import { privateMosquitto, type PrivateBroker } from '../events/broker.js';

/**
 * Fault suite: the MQTT broker and the webhook receiver are both down for a minute while a run streams
 * from a live camera and its rules emit events. Once they return, every stored event must have reached
 * both, and nothing else. A private Mosquitto (stopped and started on its port) and a local HTTP receiver
 * (closed and reopened on its port); the engine is in-process to read its stats.
 *
 * Repeats: both paths deliver at least once, by design (src/events/webhook.ts: a 2xx that never reached
 * us is a failure, retried; src/events/mqtt.ts: QoS 1, a batch whose PUBACKs did not all come is rolled
 * back and published again, and the broker redelivers to a persistent session what it had not had acked).
 * So the receivers may see an id twice, but only for a delivery in flight when they went down: an event
 * stored after that meets no failure and arrives exactly once. That is what is asserted.
 *
 * The webhook retries each event with its own exponential backoff (1 s doubling, capped at 300 s): after
 * a 60 s outage the oldest events wait up to ~64 s more, which bounds the wait below.
 */

const OUTAGE_MS = 60_000;

let db: TestDatabase;
let broker: PrivateBroker;
let receiver: Server | undefined;
let receiverPort: number;
let sub: MqttClient | undefined;
let engine: Engine | undefined;
const hooked: string[] = [];
const published: string[] = [];
/** Webhook requests whose Idempotency-Key was not the event id. */
const badKeys: string[] = [];

function openReceiver(): Promise<void> {
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const e = JSON.parse(body) as { id: string };
      if (req.headers['idempotency-key'] !== e.id) badKeys.push(e.id);
      hooked.push(e.id);
      res.writeHead(204).end();
    });
  });
  receiver = srv;
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(receiverPort, '127.0.0.1', () => resolve());
  });
}

async function closeReceiver(): Promise<void> {
  const srv = receiver;
  receiver = undefined;
  if (!srv) return;
  srv.closeAllConnections();
  await new Promise<void>((r) => srv.close(() => r()));
}

beforeAll(async () => {
  db = await createTestDatabase();
  broker = await privateMosquitto();
  await broker.start();
  receiverPort = await freePort();
  await openReceiver();
});

afterAll(async () => {
  await stopAllEngines().catch(() => undefined);
  await stopAllProcesses();
  await killAll();
  await sub?.endAsync(true);
  await closeReceiver();
  await broker?.close();
  await db?.drop();
}, 60_000);

const count = async (sql: string, params: unknown[]): Promise<number> => (await db.pool.query<{ n: number }>(sql, params)).rows[0]!.n;

/** The ids received more than once. */
function repeated(received: string[]): string[] {
  const seen = new Map<string, number>();
  for (const id of received) seen.set(id, (seen.get(id) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([id]) => id);
}

describe('fault: MQTT broker and webhook receiver down for a minute', () => {
  it('every stored event reaches both once they return: none missing, none unknown, repeats only of deliveries cut by the outage', async ({ annotate }) => {
    const fixture = JSON.parse(readFileSync('test/fixtures/plaza-rules.json', 'utf8')) as { inference: object; rules: object[] };
    const rules = [...fixture.rules, { id: 'plaza', type: 'zone_presence', name: 'plaza', zone: [[0.05, 0.3], [0.95, 0.3], [0.95, 0.98], [0.05, 0.98]] }];
    const { configId } = await insertModelAndConfig(db.pool, 'acme', {
      inference: { ...fixture.inference, iou: 0.45, every_nth_frame: 1 },
      rules,
      // A long timeout: a receiver slow on a loaded machine must not cause a retry (a repeat) outside the outage.
      webhook: { url: `http://127.0.0.1:${receiverPort}/hook`, timeout_s: 30 },
    });

    // A consumer as production would run it: a persistent session, QoS 1, reconnecting by itself.
    sub = await mqtt.connectAsync(broker.url, { clientId: 'fault-consumer', clean: false, reconnectPeriod: 500 });
    sub.on('message', (_t, p) => published.push((JSON.parse(p.toString()) as { id: string }).id));
    await sub.subscribeAsync('sie/acme/+/events', { qos: 1 });

    ({ engine } = await startEngine(db, {
      logger: process.env.SIE_TEST_LOG ? createLogger({ test: 'delivery' }, process.env.SIE_TEST_LOG) : silentLogger,
      maxRuns: 1,
      leaseTtlS: 10,
      mqttUrl: broker.url,
    }));
    const camPort = await freePort();
    await startCamera(camPort);
    const runId = await insertRun(db.pool, configId, `rtsp://127.0.0.1:${camPort}/cam`, { output_mount: 'deliver' });
    await waitForRun(db.pool, runId, (r) => r.state === 'running', 90_000);

    // Both paths work before the outage.
    for (const t0 = Date.now(); hooked.length === 0 || published.length === 0; await sleep(200)) {
      expect(Date.now() - t0, 'first deliveries before the outage').toBeLessThan(60_000);
    }

    await Promise.all([broker.stop(), closeReceiver()]);
    const downAt = new Date();
    const atDown = { hooked: hooked.length, published: published.length };
    await sleep(OUTAGE_MS);
    const createdDuring = await count(`SELECT count(*)::int AS n FROM events WHERE run_id = $1 AND created_at > $2`, [runId, downAt]);
    expect(createdDuring, 'events were emitted (and stored) during the outage').toBeGreaterThan(0);
    // Nothing could have been delivered, and nothing was marked as if it had been.
    expect({ hooked: hooked.length, published: published.length }).toEqual(atDown);
    expect(await count(`SELECT count(*)::int AS n FROM events WHERE created_at > $1 AND (webhook_delivered_at IS NOT NULL OR mqtt_delivered_at IS NOT NULL)`, [downAt])).toBe(0);

    await Promise.all([broker.start(), openReceiver()]);
    await annotate(`broker and receiver back after ${Date.now() - downAt.getTime()} ms; events stored meanwhile: ${createdDuring}`);
    // A few more seconds of live events, then a fixed set: the run is stopped and the store flushed.
    await sleep(3000);
    await db.pool.query(`UPDATE runs SET stop_requested_at = now() WHERE id = $1`, [runId]);
    await waitForRun(db.pool, runId, (r) => r.state === 'stopped', 30_000);
    await engine.events.flush();
    expect(engine.events.stats).toMatchObject({ dropped: 0, rejected: 0, buffered: 0 });

    const rows = (
      await db.pool.query<{ id: string; before: boolean }>(`SELECT id, created_at <= $2 AS before FROM events WHERE run_id = $1 ORDER BY seq`, [runId, downAt])
    ).rows;
    const ids = rows.map((r) => r.id);
    expect(ids.length, 'every event the engine wrote is stored').toBe(engine.events.stats.written);
    const t1 = Date.now();
    for (;;) {
      const missingHook = ids.filter((id) => !hooked.includes(id));
      const missingMqtt = ids.filter((id) => !published.includes(id));
      if (missingHook.length === 0 && missingMqtt.length === 0) break;
      // The webhook's per-event backoff after 60 s of failures is at most ~64 s; then a margin for load.
      expect(Date.now() - t1, `still missing: webhook ${missingHook.length}, MQTT ${missingMqtt.length} of ${ids.length}`).toBeLessThan(120_000);
      await sleep(500);
    }
    // The table agrees that all went out; after that nothing is sent again (a repeat still on its way has come).
    for (let t2 = Date.now(); ; await sleep(200)) {
      const open = await count(`SELECT count(*)::int AS n FROM events WHERE run_id = $1 AND (webhook_delivered_at IS NULL OR mqtt_delivered_at IS NULL)`, [runId]);
      if (open === 0) break;
      expect(Date.now() - t2, `${open} events not marked delivered`).toBeLessThan(10_000);
    }
    await sleep(1000);
    // What each receiver got is exactly the stored events (none missing, nothing the table does not hold)…
    expect(new Set(hooked), 'ids the webhook receiver got = the stored ids').toEqual(new Set(ids));
    expect(new Set(published), 'ids the MQTT subscriber got = the stored ids').toEqual(new Set(ids));
    // …and an id came twice only if its delivery was in flight when the receivers went down (see above).
    const cutByOutage = new Set(rows.filter((r) => r.before).map((r) => r.id));
    const repeats = { webhook: repeated(hooked), mqtt: repeated(published) };
    expect(repeats.webhook.filter((id) => !cutByOutage.has(id)), 'webhook repeats of events stored after the outage began').toEqual([]);
    expect(repeats.mqtt.filter((id) => !cutByOutage.has(id)), 'MQTT repeats of events stored after the outage began').toEqual([]);
    expect(badKeys, 'every webhook request carries its event id as Idempotency-Key').toEqual([]);
    await annotate(
      `delivered ${ids.length} events (${createdDuring} from the outage); repeated ids: webhook ${repeats.webhook.length}, MQTT ${repeats.mqtt.length}; ` +
        `all delivered ${Date.now() - t1} ms after the run stopped`,
    );
  }, 300_000);
});
