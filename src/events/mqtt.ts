import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Pool } from 'pg';
import { silentLogger, type Logger } from '../log.js';
import { redactText } from '../redact.js';
import type { EventRow } from '../io/db/sql/eventRow.js';
import { claimMqttEvents } from '../io/db/sql/claimMqttEvents.js';
import { markMqttDelivered } from '../io/db/sql/markMqttDelivered.js';
import { withTransaction } from '../io/db/tx.js';
import { storedEventFromRow } from './view.js';
import type { Deliverer } from './webhook.js';
import { createWaker, rateLimited, withTimeout } from './waker.js';

/** SIE_MQTT_URL (e.g. mqtt://127.0.0.1:1883), or undefined: no MQTT delivery in this process. */
export function mqttUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env.SIE_MQTT_URL?.trim();
  return v ? v : undefined;
}

/** A batch that failed (no PUBACK in time, a database error) is tried again this soon. */
const RETRY_MS = 1000;

export interface MqttDelivererOptions {
  pool: Pool;
  /** The broker, e.g. mqtt://127.0.0.1:1883 or mqtts://user:pass@host:8883 (credentials redacted in logs). */
  url: string;
  logger?: Logger;
  /** First topic level (default "sie"): topics are `<prefix>/<client_id>/<run_id>/events`. */
  topicPrefix?: string;
  /** Events per transaction (default 100). */
  batchSize?: number;
  /**
   * The longest the loop sleeps with nothing to publish (default 10 s): events of this process's runs wake
   * it (nudge()), and so does a reconnect; this finds what nobody nudged for (an engine that died before
   * publishing). After a failed publish it tries again within a second.
   */
  pollMs?: number;
  /** A batch not acknowledged by then is rolled back and sent again later (default 10 s). */
  publishTimeoutMs?: number;
  /** Passed to mqtt.connect (client id, TLS, …); reconnecting every second is the default. */
  connect?: IClientOptions;
}

export interface MqttStats {
  published: number;
  failed: number;
  connected: boolean;
}

/** `/`, `+`, `#` would add levels or wildcards to a topic (and NUL is invalid): a client id may not. */
function topicLevel(s: string): string {
  return s.replace(/[/+#]/g, '_').replaceAll('\0', '_');
}

export function eventTopic(prefix: string, e: Pick<EventRow, 'client_id' | 'run_id'>): string {
  return `${prefix}/${topicLevel(e.client_id)}/${e.run_id}/events`;
}

/**
 * MQTT delivery from the events table: QoS 1 (the broker acks each message), payload the StoredEvent JSON
 * whose `id` is the idempotency key (MQTT 3.1.1 has no headers; QoS 1 may deliver twice). A batch is
 * claimed FOR UPDATE SKIP LOCKED and marked in the same transaction once every PUBACK is in, so a
 * broker that is down or slow only delays: nothing is marked that was not acknowledged. While
 * disconnected the loop claims nothing; mqtt.js reconnects by itself.
 */
export function createMqttDeliverer(opts: MqttDelivererOptions): Deliverer<MqttStats> {
  const { pool } = opts;
  const shownUrl = redactText(opts.url);
  const log = (opts.logger ?? silentLogger).child({ component: 'mqtt', broker: shownUrl });
  const prefix = opts.topicPrefix ?? 'sie';
  const batchSize = opts.batchSize ?? 100;
  const pollMs = opts.pollMs ?? 10_000;
  const publishTimeoutMs = opts.publishTimeoutMs ?? 10_000;
  const waker = createWaker();
  const logError = rateLimited(10_000);
  const stats: MqttStats = { published: 0, failed: 0, connected: false };
  let client: MqttClient | undefined;
  let loop: Promise<void> | undefined;
  let stopped = true;

  async function publishBatch(c: MqttClient): Promise<number> {
    return withTransaction(pool, async (db) => {
      const rows = await claimMqttEvents(db, batchSize);
      if (rows.length === 0) return 0;
      // mqtt.js writes them in order on one socket; the acks are awaited together.
      const acks = rows.map((r) => c.publishAsync(eventTopic(prefix, r), JSON.stringify(storedEventFromRow(r)), { qos: 1 }));
      await withTimeout(Promise.all(acks), publishTimeoutMs, `no PUBACK within ${publishTimeoutMs} ms`);
      await markMqttDelivered(
        db,
        rows.map((r) => r.seq),
      );
      return rows.length;
    });
  }

  async function run(c: MqttClient): Promise<void> {
    while (!stopped) {
      let n = 0;
      let failed = false;
      if (c.connected) {
        try {
          n = await publishBatch(c);
          stats.published += n;
        } catch (err) {
          failed = true;
          stats.failed++;
          logError((suppressed) => log.warn({ err: redactText((err as Error).message), suppressed }, 'MQTT publish failed; retrying'));
        }
      }
      if (failed) await waker.wait(Math.min(RETRY_MS, pollMs));
      else if (n < batchSize) await waker.wait(pollMs);
    }
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      const c = mqtt.connect(opts.url, {
        clientId: `sie-${randomBytes(6).toString('hex')}`,
        reconnectPeriod: 1000,
        connectTimeout: 5000,
        ...opts.connect,
      });
      c.on('connect', () => {
        stats.connected = true;
        log.info('connected to the MQTT broker');
        waker.wake();
      });
      c.on('close', () => {
        if (stats.connected) log.warn('MQTT broker connection lost; reconnecting');
        stats.connected = false;
      });
      // Without a listener an 'error' event would throw; reconnecting is mqtt.js's job.
      c.on('error', (err) => logError((suppressed) => log.warn({ err: redactText(err.message), suppressed }, 'MQTT client error')));
      client = c;
      loop = run(c);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      waker.wake();
      await loop;
      const c = client;
      client = undefined;
      if (c) await withTimeout(c.endAsync(), 2000, 'MQTT end timed out').catch(() => c.end(true));
      stats.connected = false;
    },
    nudge: () => waker.wake(),
    get stats() {
      return { ...stats };
    },
  };
}
