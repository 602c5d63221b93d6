import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type LabelValues, type OpenMetricsContentType } from 'prom-client';
import type { StageName } from '../frame.js';
import type { FrameOutputTiming } from '../pipeline/frameTimings.js';
import type { RunStats } from '../pipeline/runStore.js';
import { FLOW_STATES, type BlockedAt, type FlowReading } from '../pipeline/flow.js';
import { withTimeout } from '../events/waker.js';

/**
 * The process's Prometheus metrics (prom-client), served as OpenMetrics text (the format that carries
 * exemplars; Prometheus picks its parser from the response's content type) on `/metrics` by the API,
 * `sie serve` and `sie engine --metrics-port`.
 *
 * Cost per frame: counters are not touched on the frame path at all; they are read from each run's store
 * (RunStats) when Prometheus scrapes. Only the histograms are observed per output frame, through label
 * handles made once per run. Label sets are bounded: run_id and client_id, plus stage or state or sink
 * from fixed lists; never a frame id.
 */

/** One live run as the metrics read it at scrape time. */
export interface MeteredRun {
  readonly runId: string;
  readonly clientId: string;
  stats(): RunStats;
  /** The embedded RTSP mount's readers and bytes sent; undefined for a push output or before the mount. */
  output(): { readers: number; bytesSent: number } | undefined;
  flow(): FlowReading;
}

/** A run's handle on the metrics: its per-frame observations, and its removal when it ends. */
export interface RunMeter {
  /** One new output frame once its access unit is on the mount (see FrameOutputTiming). */
  frameSent(t: FrameOutputTiming): void;
  /** The run ended: all its series go. Idempotent. */
  remove(): void;
}

/** What the engine's families read at scrape time. */
export interface MeteredEngine {
  readonly engineId: string;
  readonly capacity: number;
  runsHeld(): number;
  claims(): number;
  leaseHeld(): boolean;
  /** Events not yet delivered, per sink this engine delivers to; rejects when the database cannot say. */
  eventBacklog(): Promise<Partial<Record<EventSink, number>>>;
}

export type EventSink = 'webhook' | 'mqtt';

/** What the API's families read at scrape time: runs per persisted state (from the database). */
export interface MeteredApi {
  runsByState(): Promise<Record<string, number>>;
}

const RUN_LABELS = ['run_id', 'client_id'] as const;
type RunLabel = (typeof RUN_LABELS)[number];
type StageLabel = RunLabel | 'stage';

/** Where frames are dropped, as the `stage` label of sie_run_frames_dropped_total. */
const DROP_FIELDS: Record<BlockedAt, keyof RunStats> = {
  inference: 'droppedBeforeInference',
  rules: 'droppedBeforeRules',
  drawing: 'droppedBeforeDrawing',
  output: 'droppedAtOutput',
  encoder: 'droppedEncoderBusy',
};
const STAGES: readonly StageName[] = ['inference', 'rules', 'drawing'];

/** Per-stage times: a stage's work is sub-millisecond (rules) to a few hundred ms (inference on a slow CPU). */
const STAGE_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28];
/** Arrival → mount: tens of ms when all is well, seconds when a stage falls behind. */
const LATENCY_BUCKETS_S = [0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5];
const LEASE_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** How long a scrape waits for a database-backed gauge before leaving it out. */
const DB_GAUGE_TIMEOUT_MS = 1000;

/** The type declarations lack the constructor's content-type argument; setContentType says the same. */
function openMetricsRegistry(): Registry<OpenMetricsContentType> {
  const r = new Registry<OpenMetricsContentType>();
  r.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  return r;
}

interface RunEntry {
  readonly run: MeteredRun;
  readonly labels: Record<RunLabel, string>;
}

export class SieMetrics {
  readonly registry = openMetricsRegistry();
  private readonly runs = new Map<string, RunEntry>();
  private engine: MeteredEngine | undefined;
  private api: MeteredApi | undefined;

  private readonly stageWait: Histogram<StageLabel>;
  private readonly stageService: Histogram<StageLabel>;
  private readonly latency: Histogram<RunLabel>;
  private readonly leaseRenewal: Histogram;
  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  private readonly httpDuration: Histogram<'method' | 'route'>;

  constructor(o: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const runs = () => this.runs.values();
    /** A counter whose value per run is read from its stats at scrape time (reset, then set whole). */
    const statCounter = (name: string, help: string, field: keyof RunStats) =>
      new Counter({
        name,
        help,
        labelNames: RUN_LABELS,
        registers,
        collect() {
          this.reset();
          for (const e of runs()) this.inc(e.labels, Number(e.run.stats()[field] ?? 0));
        },
      });
    /** Every run with an embedded mount, with its output's figures (a push output has none). */
    const eachOutput = (fn: (labels: Record<RunLabel, string>, out: NonNullable<ReturnType<MeteredRun['output']>>) => void) => {
      for (const e of runs()) {
        const out = e.run.output();
        if (out) fn(e.labels, out);
      }
    };
    statCounter('sie_run_frames_in_total', 'Frames decoded from the source (ffmpeg #1).', 'framesIn');
    statCounter('sie_run_frames_out_total', 'Output ticks that reached the encoder: new, repeated or slate pictures.', 'framesOut');
    statCounter('sie_run_frames_repeated_total', 'Output ticks that repeated the last picture (the next frame was late).', 'framesRepeated');
    statCounter('sie_run_frames_slate_total', 'Output ticks that showed the SIGNAL LOST slate.', 'framesSlate');
    statCounter('sie_run_reconnects_total', 'Times the source was lost and the run went retrying.', 'reconnects');
    new Counter({
      name: 'sie_run_frames_dropped_total',
      help: 'Frames dropped, by where: the queue in front of a stage (inference, rules, drawing, output), or an output tick skipped because ffmpeg #2 was busy (encoder).',
      labelNames: [...RUN_LABELS, 'stage'],
      registers,
      collect() {
        this.reset();
        for (const e of runs()) {
          const s = e.run.stats();
          for (const [stage, field] of Object.entries(DROP_FIELDS)) this.inc({ ...e.labels, stage }, Number(s[field] ?? 0));
        }
      },
    });
    new Counter({
      name: 'sie_run_sent_bytes_total',
      help: 'RTP bytes written to the readers of the run’s RTSP mount (summed over readers; push outputs have none).',
      labelNames: RUN_LABELS,
      registers,
      collect() {
        this.reset();
        eachOutput((labels, out) => this.inc(labels, out.bytesSent));
      },
    });
    new Gauge({
      name: 'sie_run_readers',
      help: 'RTSP clients playing the run’s output now.',
      labelNames: RUN_LABELS,
      registers,
      collect() {
        this.reset();
        eachOutput((labels, out) => this.set(labels, out.readers));
      },
    });
    new Gauge({
      name: 'sie_run_flow_state',
      help: 'Why frames do or do not come out: 1 for the current state (flowing; stalled = the source went quiet; blocked = a stage downstream cannot keep up), 0 for the others. See the README, "Metrics and health".',
      labelNames: [...RUN_LABELS, 'state'],
      registers,
      collect() {
        this.reset();
        for (const e of runs()) {
          const now = e.run.flow().state;
          if (!now) continue;
          for (const state of FLOW_STATES) this.set({ ...e.labels, state }, state === now ? 1 : 0);
        }
      },
    });
    this.stageWait = new Histogram({
      name: 'sie_run_stage_wait_seconds',
      help: 'Time an output frame waited in the queue in front of each stage.',
      labelNames: [...RUN_LABELS, 'stage'],
      buckets: STAGE_BUCKETS_S,
      enableExemplars: true,
      registers,
    });
    this.stageService = new Histogram({
      name: 'sie_run_stage_service_seconds',
      help: 'Time each stage worked on an output frame (a rebuild for a new config version included).',
      labelNames: [...RUN_LABELS, 'stage'],
      buckets: STAGE_BUCKETS_S,
      enableExemplars: true,
      registers,
    });
    this.latency = new Histogram({
      name: 'sie_run_latency_seconds',
      help: 'End to end, per new output frame: its bytes read from ffmpeg #1 → its access unit written to the RTSP mount.',
      labelNames: RUN_LABELS,
      buckets: LATENCY_BUCKETS_S,
      enableExemplars: true,
      registers,
    });

    const engine = () => this.engine;
    new Gauge({
      name: 'sie_engine_info',
      help: 'The engine in this process (value 1), labelled with its id.',
      labelNames: ['engine_id'],
      registers,
      collect() {
        this.reset();
        const e = engine();
        if (e) this.set({ engine_id: e.engineId }, 1);
      },
    });
    new Gauge({
      name: 'sie_engine_runs',
      help: 'Runs this engine holds now.',
      registers,
      collect() {
        this.reset();
        const e = engine();
        if (e) this.set(e.runsHeld());
      },
    });
    new Gauge({
      name: 'sie_engine_capacity_runs',
      help: 'Runs this engine takes at most (--max-runs).',
      registers,
      collect() {
        this.reset();
        const e = engine();
        if (e) this.set(e.capacity);
      },
    });
    new Counter({
      name: 'sie_engine_claims_total',
      help: 'Runs this engine has claimed since it started.',
      registers,
      collect() {
        this.reset();
        const e = engine();
        if (e) this.inc(e.claims());
      },
    });
    new Gauge({
      name: 'sie_engine_lease_held',
      help: '1 while the engine’s lease is held (registered, and renewed within its TTL), else 0.',
      registers,
      collect() {
        this.reset();
        const e = engine();
        if (e) this.set(e.leaseHeld() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'sie_engine_event_backlog',
      help: 'Events in the database not yet delivered, per sink this engine delivers to (left out when the database does not answer).',
      labelNames: ['sink'],
      registers,
      async collect() {
        this.reset();
        const e = engine();
        if (!e) return;
        try {
          const backlog = await withTimeout(e.eventBacklog(), DB_GAUGE_TIMEOUT_MS, `no answer in ${DB_GAUGE_TIMEOUT_MS} ms`);
          for (const [sink, n] of Object.entries(backlog)) this.set({ sink }, n);
        } catch {
          // The database is away: no value is better than a stale one (readiness says why).
        }
      },
    });
    this.leaseRenewal = new Histogram({
      name: 'sie_engine_lease_renewal_seconds',
      help: 'Time one lease renewal (heartbeat) took in the database.',
      buckets: LEASE_BUCKETS_S,
      registers,
    });

    const api = () => this.api;
    new Gauge({
      name: 'sie_runs',
      help: 'Runs in the database per persisted state (served by the API; left out when the database does not answer).',
      labelNames: ['state'],
      registers,
      async collect() {
        this.reset();
        const a = api();
        if (!a) return;
        try {
          for (const [state, n] of Object.entries(await withTimeout(a.runsByState(), DB_GAUGE_TIMEOUT_MS, `no answer in ${DB_GAUGE_TIMEOUT_MS} ms`))) this.set({ state }, n);
        } catch {
          // As for the backlog: absent rather than stale.
        }
      },
    });
    this.httpRequests = new Counter({
      name: 'sie_http_requests_total',
      help: 'HTTP requests answered, by method, route template and status code.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'sie_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method and route template.',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    if (o.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'sie_' });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async render(): Promise<string> {
    // prom-client writes NaN as `Nan` (the event loop lag before its first sample), which OpenMetrics does
    // not allow; only a value can be followed by a space or a newline like this (labels are quoted).
    return (await this.registry.metrics()).replace(/ Nan(?=[ \n])/g, ' NaN');
  }

  /** Starts a run's series; its counters are read from `run` at each scrape until remove(). */
  trackRun(run: MeteredRun): RunMeter {
    const labels = { run_id: run.runId, client_id: run.clientId };
    const entry: RunEntry = { run, labels };
    this.runs.set(run.runId, entry);
    // The label objects and handles are made once: a frame observes through them without allocating any.
    const stageLabels = new Map(STAGES.map((stage) => [stage, { ...labels, stage }]));
    const waitBy = new Map(STAGES.map((stage) => [stage, this.stageWait.labels(stageLabels.get(stage)!)]));
    const serviceBy = new Map(STAGES.map((stage) => [stage, this.stageService.labels(stageLabels.get(stage)!)]));
    const latency = this.latency.labels(labels);
    let removed = false;
    return {
      frameSent: (t) => {
        if (removed) return;
        // prom-client types exemplar labels as the metric's own labels; they are any label set (trace_id).
        const traced = t.trace?.sampled ? ({ trace_id: t.trace.traceId } as LabelValues<string>) : undefined;
        for (const s of t.stages) {
          const sl = stageLabels.get(s.stage);
          if (!sl) continue;
          if (traced) {
            this.stageWait.observe({ labels: sl, value: s.waitMs / 1000, exemplarLabels: traced });
            this.stageService.observe({ labels: sl, value: s.serviceMs / 1000, exemplarLabels: traced });
          } else {
            waitBy.get(s.stage)!.observe(s.waitMs / 1000);
            serviceBy.get(s.stage)!.observe(s.serviceMs / 1000);
          }
        }
        const latencyS = Math.max(0, (t.sentAtMs - t.arrivedAtMs) / 1000);
        if (traced) this.latency.observe({ labels, value: latencyS, exemplarLabels: traced });
        else latency.observe(latencyS);
      },
      remove: () => {
        if (removed) return;
        removed = true;
        // A newer execution of the same run (released and claimed again by this engine) tracks the same
        // series: the older one going must leave them, or the newer one's frames would go uncounted.
        if (this.runs.get(run.runId) !== entry) return;
        this.runs.delete(run.runId);
        for (const sl of stageLabels.values()) {
          this.stageWait.remove(sl);
          this.stageService.remove(sl);
        }
        this.latency.remove(labels);
      },
    };
  }

  /** The engine of this process (one at most). */
  setEngine(engine: MeteredEngine | undefined): void {
    this.engine = engine;
  }

  /** The API of this process. */
  setApi(api: MeteredApi | undefined): void {
    this.api = api;
  }

  observeLeaseRenewal(seconds: number): void {
    this.leaseRenewal.observe(seconds);
  }

  observeHttp(method: string, route: string, status: number, seconds: number): void {
    this.httpRequests.inc({ method, route, status: String(status) });
    this.httpDuration.observe({ method, route }, seconds);
  }
}
