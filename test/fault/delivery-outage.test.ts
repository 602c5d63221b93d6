import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { Engine } from '../../src/engine/engine.js';
import { RtspServer } from '../../src/io/rtsp/index.js';
import { stopAllProcesses } from '../../src/io/ffmpeg/process.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { MODELS_DIR, insertModelAndConfig, insertRun, waitForRun } from '../helpers/engineFixtures.js';
import { freePort, killAll, sleep, start } from '../helpers/processes.js';
import { PLAZA, SIE } from '../helpers/media.js';
import { privateMosquitto, type PrivateBroker } from '../events/broker.js';

/**
 * Fault suite: the MQTT broker and the webhook receiver are both down for a minute while a run streams
 * from a live camera and its rules emit events. Once they return, every event must reach both (at least
 * once; ids unique in the table, none missing). A private Mosquitto (stopped and started on its port) and
 * a local HTTP receiver (closed and reopened on its port); the engine is in-process to read its stats.
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
let rtsp: RtspServer | undefined;
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
  await engine?.stop().catch(() => undefined);
  await rtsp?.close();
  await stopAllProcesses();
  await killAll();
  await sub?.endAsync(true);
  await closeReceiver();
  await broker?.close();
  await db?.drop();
}, 60_000);

const count = async (sql: string, params: unknown[]): Promise<number> => (await db.pool.query<{ n: number }>(sql, params)).rows[0]!.n;

describe('fault: MQTT broker and webhook receiver down for a minute', () => {
  it('every event reaches both once they return: none missing, ids unique', async () => {
    const fixture = JSON.parse(readFileSync('test/fixtures/plaza-rules.json', 'utf8')) as { inference: object; rules: object[] };
    const rules = [...fixture.rules, { id: 'plaza', type: 'zone_presence', name: 'plaza', zone: [[0.05, 0.3], [0.95, 0.3], [0.95, 0.98], [0.05, 0.98]] }];
    const { configId } = await insertModelAndConfig(db.pool, 'acme', {
      inference: { ...fixture.inference, iou: 0.45, every_nth_frame: 1 },
      rules,
      webhook: { url: `http://127.0.0.1:${receiverPort}/hook`, timeout_s: 5 },
    });

    // A consumer as production would run it: a persistent session, QoS 1, reconnecting by itself.
    sub = await mqtt.connectAsync(broker.url, { clientId: 'fault-consumer', clean: false, reconnectPeriod: 500 });
    sub.on('message', (_t, p) => published.push((JSON.parse(p.toString()) as { id: string }).id));
    await sub.subscribeAsync('sie/acme/+/events', { qos: 1 });

    rtsp = new RtspServer({ host: '127.0.0.1', port: 0, logger: silentLogger });
    await rtsp.listen();
    engine = new Engine({
      pool: db.pool,
      databaseUrl: db.url,
      server: rtsp,
      dataDir: MODELS_DIR,
      logger: process.env.SIE_TEST_LOG ? createLogger({ test: 'delivery' }, process.env.SIE_TEST_LOG) : silentLogger,
      maxRuns: 1,
      pollIntervalS: 0.5,
      leaseTtlS: 10,
      advertiseHost: '127.0.0.1',
      mqttUrl: broker.url,
    });
    engine.start();
    const camPort = await freePort();
    await start(SIE, ['camera', PLAZA, '--port', String(camPort), '--mount', 'cam']).waitFor(/^camera: /m, 30_000);
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
    console.log(`broker and receiver back after ${Date.now() - downAt.getTime()} ms; events stored meanwhile: ${createdDuring}`);
    // A few more seconds of live events, then a fixed set: the run is stopped and the store flushed.
    await sleep(3000);
    await db.pool.query(`UPDATE runs SET stop_requested_at = now() WHERE id = $1`, [runId]);
    await waitForRun(db.pool, runId, (r) => r.state === 'stopped', 30_000);
    await engine.events.flush();
    expect(engine.events.stats).toMatchObject({ dropped: 0, rejected: 0, buffered: 0 });

    const ids = (await db.pool.query<{ id: string }>(`SELECT id FROM events WHERE run_id = $1 ORDER BY events.seq`, [runId])).rows.map((r) => r.id);
    expect(new Set(ids).size, 'event ids unique').toBe(ids.length);
    expect(ids.length).toBe(engine.events.stats.written);
    const t1 = Date.now();
    for (;;) {
      const missingHook = ids.filter((id) => !hooked.includes(id));
      const missingMqtt = ids.filter((id) => !published.includes(id));
      if (missingHook.length === 0 && missingMqtt.length === 0) break;
      // The webhook's per-event backoff after 60 s of failures is at most ~64 s; then a margin for load.
      expect(Date.now() - t1, `still missing: webhook ${missingHook.length}, MQTT ${missingMqtt.length} of ${ids.length}`).toBeLessThan(120_000);
      await sleep(500);
    }
    // Nothing reached a receiver that the table does not hold, and the table agrees that all went out.
    expect(hooked.filter((id) => !ids.includes(id))).toEqual([]);
    expect(published.filter((id) => !ids.includes(id))).toEqual([]);
    expect(badKeys, 'every webhook request carries its event id as Idempotency-Key').toEqual([]);
    for (let t2 = Date.now(); ; await sleep(200)) {
      const open = await count(`SELECT count(*)::int AS n FROM events WHERE run_id = $1 AND (webhook_delivered_at IS NULL OR mqtt_delivered_at IS NULL)`, [runId]);
      if (open === 0) break;
      expect(Date.now() - t2, `${open} events not marked delivered`).toBeLessThan(10_000);
    }
    console.log(
      `delivered ${ids.length} events (${createdDuring} from the outage); repeats: webhook ${hooked.length - new Set(hooked).size}, MQTT ${published.length - new Set(published).size}; ` +
        `all delivered ${Date.now() - t1} ms after the run stopped`,
    );
  }, 300_000);
});
