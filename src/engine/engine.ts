import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { createActor, waitFor, type InspectionEvent, type Observer } from 'xstate';
import { pollerMachine } from '../machines/poller.machine.js';
import { createPollerActors } from '../actors/poller.js';
import type { RtspServer } from '../io/rtsp/index.js';
import { defaultEncoderSettings, type EncoderSettings } from '../io/ffmpeg/encoder.js';
import type { DetectorFactory } from '../inference/detector.js';
import type { FrameTimingSink } from '../pipeline/frameTimings.js';
import type { FrameTracing } from '../observability/tracing.js';
import { coerceError } from '../errors.js';
import { RunSupervisor } from './runSupervisor.js';
import { createEventStore, type EventStore } from '../events/store.js';
import { createWebhookDeliverer } from '../events/webhook.js';
import { createMqttDeliverer } from '../events/mqtt.js';
import { createEventPruner } from '../events/prune.js';
import type { Logger } from '../log.js';
import { openMediaRoot } from '../io/mediaRoot.js';
import { modelResolver, type ModelObjectSource } from '../models/engineModels.js';
import { DEFAULT_MODEL_CACHE_MAX_BYTES, ModelCache } from '../models/modelCache.js';
import { eventBacklog } from '../io/db/sql/eventBacklog.js';
import { locateRunMount } from '../io/db/sql/locateRunMount.js';
import { boundedLocator } from './mountLocator.js';
import { DryRuns } from './dryRuns.js';
import type { EngineRuns } from './engineRuns.js';
import type { SieMetrics } from '../observability/metrics.js';

export interface EngineOptions {
  pool: Pool;
  /** The lease's own connection (heartbeats, claims, reclaims); none = `pool`. Apart, a burst of the runs'
   *  writes cannot hold a heartbeat back past the lease (the scale test's burst: 120 transitions queued
   *  before it, engines lost their runs). */
  controlPool?: Pool;
  databaseUrl: string;
  server: RtspServer;
  dataDir: string;
  /** `--media-root`: file sources only below it, by real path (openMediaRoot); undefined = no file sources. */
  mediaRoot?: string;
  logger: Logger;
  engineId?: string;
  maxRuns: number;
  /** Cost units this engine holds at most (CPU ms per second of video, 1000 = a core; default no limit). */
  capacityUnits?: number;
  /** The engine's kind (default cpu): it claims runs asking for it or for no pool. */
  enginePool?: string;
  /** `--dry`: the control plane only; claimed runs are held, never run (src/engine/dryRuns.ts). */
  dry?: boolean;
  /** `--dry-write-every`: each dry run writes its counters (fenced) this often, as a real run's change; 0 = never. */
  dryWriteEveryS?: number;
  pollIntervalS: number;
  /** How long our lease lives without a heartbeat; heartbeats come every third of it. */
  leaseTtlS: number;
  /** Host clients use to reach this engine's RTSP server, stored in each run's output_url. */
  advertiseHost: string;
  stallTimeoutS?: number;
  encoder?: EncoderSettings;
  /** Where the runs' detectors run: the process's inference pool (on the event loop when absent). */
  createDetector?: DetectorFactory;
  /** The engine's copies of the models it runs (SIE_MODEL_CACHE_DIR); default `<dataDir>/model-cache`, 4 GiB. */
  modelCache?: ModelCache;
  /** The S3 store big models' weights are read from (SIE_MODEL_S3_URL); none = models stored there fail their runs. */
  modelObjects?: ModelObjectSource;
  /** MQTT broker for events (topic sie/<client_id>/<run_id>/events); none = no MQTT. */
  mqttUrl?: string;
  /** Every this many seconds, one `run stats` log line per run (frames in/out, drops); 0 = none. */
  statsIntervalS?: number;
  /** Where every run's output frame timings go, one per new output frame (`--frame-timings`); none = off.
   *  The caller owns it (and closes it after stop()). */
  frameTimings?: FrameTimingSink;
  /** Frame tracing (src/observability/tracing.ts), shared by every run; none = off. */
  tracing?: FrameTracing;
  /** Stately's inspector for the poller's and every run's machine (SIE_INSPECT); none = not inspected. */
  inspect?: Observer<InspectionEvent>;
  /** The process's Prometheus metrics: the engine's families and every run's series. */
  metrics?: SieMetrics;
}

/** What the engine's database connections call themselves (pg_stat_activity): connections per engine are countable. */
export function engineApplicationName(engineId: string): string {
  // PostgreSQL keeps 63 bytes of it.
  return `sie-engine ${engineId}`.slice(0, 63);
}

/** A new engine's id: host, pid and a random suffix (two engines in one process differ). */
export function newEngineId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/**
 * An engine's capacity when none is given: no limit in cost units, only --max-runs (what engines did before
 * claims were sized by cost). A sized deployment sets it (the Helm chart: the pod's CPU request).
 */
export const UNLIMITED_CAPACITY_UNITS = 2_000_000_000;

/** What the probes read of an engine (readiness: lease held, not draining; startup: registered). */
export interface EngineHealth {
  /** The engine row was written at least once since start. */
  readonly registered: boolean;
  /** Registered, and the lease was written within its TTL (a heartbeat failing for a TTL loses it). */
  readonly leaseHeld: boolean;
  /** SIGTERM: releasing its runs, or done. */
  readonly draining: boolean;
  /** Runs still loading their model (state starting). */
  readonly runsLoading: number;
}

/**
 * An engine process: the poller actor claims runs from PostgreSQL (src/actors/poller.ts), the supervisor runs them. SIGTERM
 * (stop()) releases every run back to pending; a crash leaves them to be reclaimed when the lease expires.
 */
export class Engine {
  readonly id: string;
  readonly runs: EngineRuns;
  /** Events go to PostgreSQL first; webhook and MQTT deliver from the table (at least once). */
  readonly events: EventStore;
  private readonly background: { start(): void; stop(): Promise<void> }[] = [];
  private countersTimer: NodeJS.Timeout | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private readonly actor;
  /** When the lease was last written (performance.now()), undefined before registration. */
  private leaseWrittenAt: number | undefined;

  constructor(private readonly o: EngineOptions) {
    this.id = o.engineId ?? newEngineId();
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
    this.runs = o.dry ? new DryRuns({ pool: o.pool, engineId: this.id, logger: log, writeEveryS: o.dryWriteEveryS ?? 0 }) : new RunSupervisor({
      pool: o.pool,
      engineId: this.id,
      dataDir: o.dataDir,
      // As a real path: the containment check compares real paths.
      mediaRoot: o.mediaRoot === undefined ? undefined : openMediaRoot(o.mediaRoot),
      server: o.server,
      encoder: o.encoder ?? defaultEncoderSettings,
      createDetector: o.createDetector,
      models: modelResolver({
        pool: o.pool,
        dataDir: o.dataDir,
        cache: o.modelCache ?? new ModelCache({ dir: join(o.dataDir, 'model-cache'), maxBytes: DEFAULT_MODEL_CACHE_MAX_BYTES, logger: log }),
        ...(o.modelObjects ? { objects: o.modelObjects } : {}),
      }),
      stallTimeoutS: o.stallTimeoutS ?? 5,
      logger: log,
      onEvents: (_run, events) => this.events.append(events),
      frameTimings: o.frameTimings,
      tracing: o.tracing,
      inspect: o.inspect,
      metrics: o.metrics,
    });
    const machine = pollerMachine.provide({
      actors: createPollerActors({
        pool: o.controlPool ?? o.pool,
        // On one pool, a claim queues behind the runs' writes anyway.
        ...(o.controlPool ? { runsWritesQueued: () => o.pool.waitingCount > 0 } : {}),
        databaseUrl: o.databaseUrl,
        applicationName: engineApplicationName(this.id),
        engineId: this.id,
        advertiseHost: o.advertiseHost,
        rtspPort: () => o.server.port,
        maxRuns: o.maxRuns,
        capacityUnits: o.capacityUnits ?? UNLIMITED_CAPACITY_UNITS,
        enginePool: o.enginePool ?? 'cpu',
        leaseTtlS: o.leaseTtlS,
        pollIntervalS: o.pollIntervalS,
        runs: this.runs,
        logger: log,
        onLeaseWritten: (e) => {
          this.leaseWrittenAt = performance.now();
          if (e.kind === 'renewed') o.metrics?.observeLeaseRenewal(e.seconds);
        },
      }),
    });
    this.actor = createActor(machine, { input: { pollIntervalS: o.pollIntervalS, registerRetryS: 2 }, ...(o.inspect ? { inspect: o.inspect } : {}) });
    this.actor.subscribe({
      error: (err) => log.error({ err: coerceError(err).message }, 'poller crashed'),
    });
    o.metrics?.setEngine({
      engineId: this.id,
      capacity: o.maxRuns,
      runsHeld: () => this.runs.count,
      claims: () => this.runs.claims,
      leaseHeld: () => this.health().leaseHeld,
      eventBacklog: async () => {
        const b = await eventBacklog(o.pool);
        // MQTT rows stay undelivered forever where no engine publishes: count them only where this one does.
        return o.mqttUrl ? b : { webhook: b.webhook };
      },
    });
  }

  health(): EngineHealth {
    const snap = this.actor.getSnapshot();
    const draining = snap.matches('draining') || snap.matches('stopped') || snap.status === 'done';
    const fresh = this.leaseWrittenAt !== undefined && performance.now() - this.leaseWrittenAt <= this.o.leaseTtlS * 1000;
    return {
      registered: this.leaseWrittenAt !== undefined,
      leaseHeld: snap.matches('active') && fresh,
      draining,
      runsLoading: this.runs.loading(),
    };
  }

  start(): void {
    // A consumer asking this engine's RTSP server for a run another engine holds is sent there: one
    // URL (a Service in front of every engine) works through failover.
    this.o.server.setLocator(boundedLocator((mount) => locateRunMount(this.o.pool, mount, this.id)));
    for (const b of this.background) b.start();
    this.countersTimer = setInterval(() => this.runs.publishCounters(), 1000);
    const statsS = this.o.statsIntervalS ?? 0;
    // The only per-run frame counters visible from outside the process (`sie bench --soak` reads them).
    if (statsS > 0) this.statsTimer = setInterval(() => this.runs.logStats(), statsS * 1000);
    this.actor.start();
  }

  /** Releases all runs for other engines and removes our engine row. */
  async stop(): Promise<void> {
    this.o.server.setLocator(undefined);
    this.actor.send({ type: 'engine.drain' });
    try {
      await waitFor(this.actor, (s) => s.status === 'done', { timeout: 30_000 });
    } finally {
      // Even when the drain timed out: no timer, buffered event or delivery loop may outlive the engine.
      clearInterval(this.countersTimer);
      clearInterval(this.statsTimer);
      this.runs.close();
      await this.events.close();
      await Promise.all(this.background.map((b) => b.stop()));
    }
  }
}
