import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { createActor, fromCallback, fromPromise, waitFor, type EventObject } from 'xstate';
import { pollerMachine } from '../machines/poller.machine.js';
import { claimRuns } from '../io/db/sql/claimRuns.js';
import { registerEngine, unregisterEngine } from '../io/db/sql/registerEngine.js';
import { renewEngineLease } from '../io/db/sql/renewEngineLease.js';
import { reclaimExpiredRuns } from '../io/db/sql/reclaimExpiredRuns.js';
import { stopRequestedRuns } from '../io/db/sql/stopRequestedRuns.js';
import { staleConfigRuns } from '../io/db/sql/configChanges.js';
import { listenForNudges } from '../io/db/notifications.js';
import type { RtspServer } from '../io/rtsp/index.js';
import { defaultEncoderSettings, type EncoderSettings } from '../io/ffmpeg/encoder.js';
import { coerceError } from '../errors.js';
import { RunSupervisor } from './runSupervisor.js';
import { createEventPruner, createEventStore, createMqttDeliverer, createWebhookDeliverer, type EventStore } from '../events/index.js';
import type { Logger } from '../log.js';
import { openMediaRoot } from '../io/mediaRoot.js';

export interface EngineOptions {
  pool: Pool;
  databaseUrl: string;
  server: RtspServer;
  dataDir: string;
  /** `--media-root`: file sources only below it, by real path (openMediaRoot); undefined = no file sources. */
  mediaRoot?: string;
  logger: Logger;
  engineId?: string;
  maxRuns: number;
  pollIntervalS: number;
  /** How long our lease lives without a heartbeat; heartbeats come every third of it. */
  leaseTtlS: number;
  /** Host clients use to reach this engine's RTSP server, stored in each run's output_url. */
  advertiseHost: string;
  stallTimeoutS?: number;
  encoder?: EncoderSettings;
  /** MQTT broker for events (topic sie/<client_id>/<run_id>/events); none = no MQTT. */
  mqttUrl?: string;
  /** Every this many seconds, one `run stats` log line per run (frames in/out, drops); 0 = none. */
  statsIntervalS?: number;
}

/**
 * An engine process: the poller actor claims runs from PostgreSQL, the supervisor runs them. SIGTERM
 * (stop()) releases every run back to pending; a crash leaves them to be reclaimed when the lease expires.
 */
export class Engine {
  readonly id: string;
  readonly runs: RunSupervisor;
  /** Events go to PostgreSQL first; webhook and MQTT deliver from the table (at least once). */
  readonly events: EventStore;
  private readonly background: { start(): void; stop(): Promise<void> }[] = [];
  private countersTimer: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private claimInFlight: Promise<unknown> = Promise.resolve();
  private readonly actor;

  constructor(private readonly o: EngineOptions) {
    this.id = o.engineId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    const log = o.logger.child({ engineId: this.id });
    this.events = createEventStore(o.pool, log);
    const webhook = createWebhookDeliverer({ pool: o.pool, logger: log });
    const mqtt = o.mqttUrl ? createMqttDeliverer({ pool: o.pool, url: o.mqttUrl, logger: log }) : undefined;
    this.events.onFlushed(() => {
      webhook.nudge();
      mqtt?.nudge();
    });
    this.background.push(webhook, createEventPruner({ pool: o.pool, logger: log }));
    if (mqtt) this.background.push(mqtt);
    this.runs = new RunSupervisor({
      pool: o.pool,
      engineId: this.id,
      dataDir: o.dataDir,
      // As a real path: the containment check compares real paths.
      mediaRoot: o.mediaRoot === undefined ? undefined : openMediaRoot(o.mediaRoot),
      server: o.server,
      encoder: o.encoder ?? defaultEncoderSettings,
      stallTimeoutS: o.stallTimeoutS ?? 5,
      logger: log,
      onEvents: (_run, events) => this.events.append(events),
    });
    const engineRow = () => ({
      id: this.id,
      hostname: hostname(),
      advertiseHost: o.advertiseHost,
      rtspPort: o.server.port,
      maxRuns: o.maxRuns,
      leaseTtlS: o.leaseTtlS,
    });
    const machine = pollerMachine.provide({
      actors: {
        register: fromPromise(async () => {
          await registerEngine(o.pool, engineRow());
          log.info({ maxRuns: o.maxRuns, leaseTtlS: o.leaseTtlS }, 'engine registered');
        }),
        heartbeat: fromCallback<EventObject>(({ sendBack }) => {
          let busy = false;
          const timer = setInterval(() => {
            if (busy) return;
            busy = true;
            renewEngineLease(o.pool, this.id, o.leaseTtlS)
              .then((ok) => {
                if (!ok) {
                  log.error('engine lease lost: another engine has taken our runs');
                  sendBack({ type: 'lease.lost' });
                }
              })
              .catch((err: unknown) => log.warn({ err: coerceError(err).message }, 'heartbeat failed'))
              .finally(() => (busy = false));
          }, (o.leaseTtlS * 1000) / 3);
          return () => clearInterval(timer);
        }),
        listener: fromCallback<EventObject>(({ sendBack }) => {
          let closed = false;
          let handle: { close(): Promise<void> } | undefined;
          let retry: NodeJS.Timeout | undefined;
          const onNotify = (channel: string, payload: string) => {
            if (channel === 'sie_runs') sendBack({ type: 'poller.nudge' });
            else if (channel === 'sie_run_stop' && this.runs.has(payload)) this.runs.stop(payload);
            else if (channel === 'sie_config_changed') {
              this.runs.applyConfigChange(payload).catch((err: unknown) => log.warn({ err: coerceError(err).message }, 'config change failed'));
            }
          };
          // Polling covers us meanwhile, but LISTEN is what makes pickup immediate: keep trying to get it back.
          const connect = () => {
            listenForNudges(o.databaseUrl, onNotify, log)
              .then((h) => (closed ? void h.close() : (handle = h)))
              .catch((err: unknown) => {
                log.warn({ err: coerceError(err).message }, 'LISTEN unavailable; polling only, retrying in 5 s');
                if (!closed) retry = setTimeout(connect, 5000);
              });
          };
          connect();
          return () => {
            closed = true;
            clearTimeout(retry);
            void handle?.close();
          };
        }),
        claim: fromPromise(() => {
          const claiming = this.claim(log);
          // A drain or a lost lease does not cancel a claim already sent: they wait for it (see below).
          this.claimInFlight = claiming.catch(() => undefined);
          return claiming;
        }),
        abandonRuns: fromPromise(async () => {
          await this.claimInFlight;
          await this.runs.abandonAll();
        }),
        release: fromPromise(async () => {
          // Runs a claim still in flight takes are launched when its answer comes: release them too,
          // before the engine row goes (unregistering first would leave them owned by nobody, forever).
          await this.claimInFlight;
          await this.runs.releaseAll();
          await unregisterEngine(o.pool, this.id);
          log.info('engine stopped; runs released');
        }),
      },
    });
    this.actor = createActor(machine, { input: { pollIntervalS: o.pollIntervalS, registerRetryS: 2 } });
    this.actor.subscribe({
      error: (err) => log.error({ err: coerceError(err).message }, 'poller crashed'),
    });
  }

  /** One claim round: reclaim dead engines' runs, apply stop requests and config changes, claim what fits. */
  private async claim(log: Logger): Promise<number> {
    const o = this.o;
    await reclaimExpiredRuns(o.pool, this.id);
    for (const id of await stopRequestedRuns(o.pool, this.id)) this.runs.stop(id);
    for (const configId of new Set((await staleConfigRuns(o.pool, this.id)).map((r) => r.config_id))) {
      await this.runs.applyConfigChange(configId);
    }
    const claimed = await claimRuns(o.pool, {
      engineId: this.id,
      capacity: o.maxRuns - this.runs.count,
      advertiseHost: o.advertiseHost,
      rtspPort: o.server.port,
    });
    for (const row of claimed) {
      log.info({ runId: row.id, mount: row.output_mount }, 'run claimed');
      this.runs.launch(row);
    }
    return claimed.length;
  }

  start(): void {
    for (const b of this.background) b.start();
    this.countersTimer = setInterval(() => this.runs.publishCounters(), 1000);
    const statsS = this.o.statsIntervalS ?? 0;
    // The only per-run frame counters visible from outside the process (`sie bench --soak` reads them).
    if (statsS > 0) this.statsTimer = setInterval(() => this.runs.logStats(), statsS * 1000);
    this.actor.start();
  }

  /** Releases all runs for other engines and removes our engine row. */
  async stop(): Promise<void> {
    this.actor.send({ type: 'engine.drain' });
    try {
      await waitFor(this.actor, (s) => s.status === 'done', { timeout: 30_000 });
    } finally {
      // Even when the drain timed out: no timer, buffered event or delivery loop may outlive the engine.
      clearInterval(this.countersTimer);
      clearInterval(this.statsTimer);
      await this.events.close();
      await Promise.all(this.background.map((b) => b.stop()));
    }
  }
}
