import type { InspectionEvent, Observer } from 'xstate';
import type { Pool } from 'pg';
import { startRun, type RunHandle } from '../actors/runSystem.js';
import { totalDropped } from '../pipeline/runStore.js';
import { describeFlow } from '../pipeline/flow.js';
import { releaseRun } from '../io/db/sql/releaseEngineRuns.js';
import type { ClaimedRun } from '../io/db/sql/claimRuns.js';
import type { RtspServer } from '../io/rtsp/index.js';
import type { EncoderSettings } from '../io/ffmpeg/encoder.js';
import { createDetector as createDetectorHere, type DetectorFactory } from '../inference/detector.js';
import type { ModelResolver, RunModel } from '../models/engineModels.js';
import type { FrameTimingSink } from '../pipeline/frameTimings.js';
import type { FrameTracing } from '../observability/tracing.js';
import type { RunError, RunStateName } from '../machines/run.machine.js';
import { coerceError, toRunError } from '../errors.js';
import { CountersBatch, type CountersWriter } from '../events/counters.js';
import { writeTransitionRetrying } from './transitionWrite.js';
import type { RuleEvent } from '../rules/index.js';
import { runSettingsFromClaim } from './runFromClaim.js';
import { currentConfigVersion, setRunConfigVersion } from '../io/db/sql/configChanges.js';
import { configBodySchema } from '../config/body.js';
import { updateRunSource } from '../io/db/sql/updateRunSource.js';
import { updateRunFlow } from '../io/db/sql/updateRunFlow.js';
import { describeZodError } from '../config/zodError.js';
import type { Logger } from '../log.js';
import type { SieMetrics } from '../observability/metrics.js';
import { withTimeout } from '../events/waker.js';

interface SupervisedRun {
  row: ClaimedRun;
  counters: CountersWriter;
  handle: RunHandle | undefined;
  /** False once the run is being released or its lease is lost: nothing more is written for it. */
  persist: boolean;
  /** Transitions are written strictly in order, one after the other. */
  chain: Promise<void>;
  lastPersisted: RunStateName | 'pending';
  /** The flow reading last written (`state/stage`). */
  flow: ChangedField;
  /** The source's size and rate last written (`WxH@fps`: the run's cost). */
  source: ChangedField;
  /** Settles once the run is torn down here (stages stopped, last writes made, gone from the map). */
  ended: Promise<void>;
}

/** One fenced field of a run written when it changes: the value last written (as a key), and whether a write is in flight. */
interface ChangedField {
  written: string | undefined;
  writing: boolean;
}

/** Why a run entered a state, for the transition row (errors speak for themselves). */
const defaultReason: Partial<Record<RunStateName, string>> = {
  connecting: 'model loaded, opening the source',
  running: 'frames flowing',
  completed: 'file source ended',
};

export interface RunSupervisorDeps {
  pool: Pool;
  engineId: string;
  dataDir: string;
  /** File sources only below this directory (a real path); undefined = none. */
  mediaRoot?: string;
  server: RtspServer;
  encoder: EncoderSettings;
  /** Where the runs' detectors run (the engine's inference pool). */
  createDetector?: DetectorFactory;
  /** Where a run's weights file is (the model cache); none = `<dataDir>/<file_path>` as the row says. */
  models?: ModelResolver;
  stallTimeoutS: number;
  logger: Logger;
  /** Where the rules' events go (the event store); called on the pipeline's thread, must not block. */
  onEvents?(run: ClaimedRun, events: RuleEvent[]): void;
  /** Where every run's output frame timings go (`--frame-timings`); none = not measured. */
  frameTimings?: FrameTimingSink;
  /** Frame tracing, shared by every run; none = off. */
  tracing?: FrameTracing;
  /** Stately's inspector for every run's machine (SIE_INSPECT); none = not inspected. */
  inspect?: Observer<InspectionEvent>;
  /** The process's Prometheus metrics (each run's series). */
  metrics?: SieMetrics;
}

/**
 * The engine's runs: starts one actor system per claimed run, persists every state change (fenced by the
 * lease epoch), and stops, releases or abandons runs on request.
 */
export class RunSupervisor {
  private readonly runs = new Map<string, SupervisedRun>();
  private launched = 0;
  /** Every run's rule counters, one fenced statement a second for all of them. */
  private readonly counters: CountersBatch;

  constructor(private readonly d: RunSupervisorDeps) {
    this.counters = new CountersBatch({ pool: d.pool, engineId: d.engineId, logger: d.logger });
  }

  /** Runs claimed (launched) since the engine started. */
  get claims(): number {
    return this.launched;
  }

  /** Runs still loading their model. */
  loading(): number {
    let n = 0;
    for (const sup of this.runs.values()) if (sup.handle?.state() === 'starting') n++;
    return n;
  }

  get count(): number {
    return this.runs.size;
  }

  has(runId: string): boolean {
    return this.runs.has(runId);
  }

  handle(runId: string): RunHandle | undefined {
    return this.runs.get(runId)?.handle;
  }

  launch(row: ClaimedRun): void {
    const log = this.d.logger.child({ runId: row.id });
    this.launched++;
    const sup: SupervisedRun = {
      row,
      handle: undefined,
      persist: true,
      chain: Promise.resolve(),
      lastPersisted: 'starting',
      flow: { written: undefined, writing: false },
      source: { written: undefined, writing: false },
      ended: Promise.resolve(),
      // A counters write refused means the same as a refused transition: the run is another engine's now.
      counters: this.counters.writer(row.id, row.lease_epoch, () => this.fencedOut(sup, 'counters', log)),
    };
    this.runs.set(row.id, sup);
    let settings;
    try {
      settings = runSettingsFromClaim(row, this.d.dataDir, this.d.mediaRoot);
    } catch (err) {
      const e = coerceError(err);
      void sup.counters.close();
      this.persist(sup, 'failed', toRunError(e, { final: true }), 0, log);
      sup.ended = sup.chain.then(() => this.forget(sup));
      return;
    }
    const timings = this.d.frameTimings;
    const model = this.d.models ? this.runModel(row.model_id, this.d.models) : undefined;
    sup.handle = startRun({
      runId: row.id,
      clientId: row.client_id,
      name: row.output_mount,
      config: settings.config,
      eventIdEpoch: `e${row.lease_epoch}`,
      onEvents: (events) => this.d.onEvents?.(row, events),
      source: settings.source,
      detector: { ...settings.detector, logger: log },
      createDetector: model ? model.createDetector(this.d.createDetector ?? createDetectorHere) : this.d.createDetector,
      output: { kind: 'embedded', server: this.d.server, mountPath: row.output_mount },
      encoder: this.d.encoder,
      retry: settings.retry,
      connectTimeoutS: settings.connectTimeoutS,
      stallTimeoutS: this.d.stallTimeoutS,
      logger: this.d.logger,
      onTransition: (state, error, attempt) => this.persist(sup, state, error, attempt, log),
      onFrameSent: timings ? (t) => timings.record(t) : undefined,
      tracer: this.d.tracing?.forRun({ runId: row.id, clientId: row.client_id }),
      inspect: this.d.inspect,
      metrics: this.d.metrics,
    });
    sup.ended = sup.handle.done.then(async () => {
      model?.release();
      await sup.chain;
      await sup.counters.close();
      this.forget(sup);
    });
  }

  /**
   * Off the map, unless the run was claimed again meanwhile: an engine that lost its lease and got it back
   * can claim a run it still tears down, and the old teardown must not drop the new one (it would run on
   * untracked: stops ignored, never released, its capacity not counted).
   */
  private forget(sup: SupervisedRun): void {
    if (this.runs.get(sup.row.id) === sup) this.runs.delete(sup.row.id);
  }

  /**
   * The run's weights, found (and fetched into the cache) when its detector is first made, inside the run's
   * `starting` state: a fetch that broke off is tried again after the run's backoff (ModelFetchError), bytes
   * that are wrong fail the run as a model error. Held until the run ends.
   */
  private runModel(modelId: string, resolve: ModelResolver): { createDetector(base: DetectorFactory): DetectorFactory; release(): void } {
    let held: Promise<RunModel> | undefined;
    let ended = false;
    return {
      createDetector: (base) => async (opts) => {
        held ??= resolve(modelId).then(
          (m) => {
            // The run ended while the model was fetched: let it go at once.
            if (ended) m.release();
            return m;
          },
          (err: unknown) => {
            // A fetch that failed is not kept: the run's next attempt (after its backoff) fetches again.
            held = undefined;
            throw err;
          },
        );
        const m = await held;
        // A run's options always name a weights path (runSettingsFromClaim), never a spec.
        if (opts.spec) return base(opts);
        return base({ ...opts, weightsPath: m.path });
      },
      release: () => {
        ended = true;
        void held?.then(
          (m) => m.release(),
          () => undefined,
        );
      },
    };
  }

  private persist(sup: SupervisedRun, state: RunStateName, error: RunError | null, attempt: number, log: Logger): void {
    if (!sup.persist || state === sup.lastPersisted) return;
    sup.lastPersisted = state;
    const reason = state === 'stopping' ? 'stop requested' : error ? error.kind : (defaultReason[state] ?? null);
    sup.chain = sup.chain
      .then(async () => {
        if (!sup.persist) return;
        if (state === 'stopped' || state === 'failed' || state === 'completed') {
          // The final counters first: the final transition releases the run, after which writes are fenced out.
          const last = sup.handle?.counters();
          if (last) sup.counters.set(last);
          await sup.counters.close();
        }
        const ok = await writeTransitionRetrying(this.d.pool, {
          runId: sup.row.id,
          engineId: this.d.engineId,
          leaseEpoch: sup.row.lease_epoch,
          to: state,
          reason,
          error: error && (state === 'failed' || state === 'retrying') ? { kind: error.kind, message: error.message } : null,
          attempts: attempt,
        }, () => sup.persist, log);
        if (ok === false) this.fencedOut(sup, state, log);
      })
      .catch((err: unknown) => log.error({ err: coerceError(err).message, state }, 'could not persist run transition'));
  }

  /** A write of this run was fenced out: another engine owns it now. Stops ours without another write. */
  private fencedOut(sup: SupervisedRun, write: string, log: Logger): void {
    if (!sup.persist) return;
    log.warn({ write }, 'lease lost for run; stopping it without writing');
    sup.persist = false;
    void sup.handle?.stop('lease lost');
  }

  /**
   * A config changed (NOTIFY or the poll's backstop): its runs apply the current version from their next
   * frames, without restarting the output stream. A version that cannot apply (another model, a class the
   * model lacks) is refused and logged; the run keeps the version it has.
   */
  async applyConfigChange(configId: string): Promise<void> {
    const targets = [...this.runs.values()].filter((s) => s.row.config_id === configId && s.handle && s.persist);
    if (targets.length === 0) return;
    const current = await currentConfigVersion(this.d.pool, configId);
    if (!current) return;
    for (const sup of targets) {
      if (current.version <= sup.row.config_version) continue;
      const log = this.d.logger.child({ runId: sup.row.id, configId, version: current.version });
      if (current.model_id !== sup.row.model_id) {
        log.warn('config version changes the model: not applied to the running run (stop and start it)');
        sup.row.config_version = current.version;
        continue;
      }
      const parsed = configBodySchema.safeParse(current.body);
      if (!parsed.success) {
        log.error({ problems: describeZodError(parsed.error) }, 'config version invalid: not applied');
        sup.row.config_version = current.version;
        continue;
      }
      try {
        await sup.handle!.reconfigure(parsed.data);
        sup.row.config_version = current.version;
        await setRunConfigVersion(this.d.pool, { runId: sup.row.id, engineId: this.d.engineId, leaseEpoch: sup.row.lease_epoch, version: current.version });
        log.info('config change applied');
      } catch (err) {
        sup.row.config_version = current.version;
        log.error({ err: coerceError(err).message }, 'config change refused; the run keeps its previous version');
      }
    }
  }

  /** Hands each run's current rule counters to its writer (which writes at most once a second, fenced),
   *  and writes its flow reading (stalled vs blocked) when it changed. */
  publishCounters(): void {
    for (const sup of this.runs.values()) {
      const c = sup.persist ? sup.handle?.counters() : undefined;
      if (c) sup.counters.set(c);
      this.publishFlow(sup);
      this.publishSource(sup);
    }
  }

  /** The source as measured, once it is open and whenever it changes (a camera reconfigured). */
  private publishSource(sup: SupervisedRun): void {
    const info = sup.handle?.store.getSnapshot().context.source.info;
    if (!sup.persist || !info) return;
    const fps = Math.min(240, Math.max(0.01, info.fps));
    this.writeWhenChanged(sup, sup.source, `${info.width}x${info.height}@${fps}`, 'source', () =>
      updateRunSource(this.d.pool, { runId: sup.row.id, engineId: this.d.engineId, leaseEpoch: sup.row.lease_epoch, width: info.width, height: info.height, fps }),
    );
  }

  private publishFlow(sup: SupervisedRun): void {
    const h = sup.handle;
    if (!sup.persist || !h) return;
    const r = h.flow();
    this.writeWhenChanged(sup, sup.flow, `${r.state}/${r.blockedAt}`, 'flow', () =>
      updateRunFlow(this.d.pool, { runId: sup.row.id, engineId: this.d.engineId, leaseEpoch: sup.row.lease_epoch, flow: r.state, stage: r.blockedAt }),
    );
  }

  /** One write at a time per run and field, only when the value changed; a failed one (database down) is retried at the next tick. */
  private writeWhenChanged(sup: SupervisedRun, field: ChangedField, key: string, what: string, write: () => Promise<unknown>): void {
    if (field.writing || key === field.written) return;
    field.writing = true;
    write()
      .then(() => (field.written = key))
      .catch((err: unknown) => this.d.logger.debug({ runId: sup.row.id, err: coerceError(err).message }, `${what} write failed; retried at the next tick`))
      .finally(() => (field.writing = false));
  }

  close(): void {
    this.counters.close();
  }

  /** One `run stats` log line per run: its state and cumulative frame counters (see RunStats). */
  logStats(): void {
    for (const sup of this.runs.values()) {
      const h = sup.handle;
      if (!h) continue;
      const s = h.stats;
      this.d.logger.info(
        {
          runId: sup.row.id,
          state: h.state(),
          framesIn: s.framesIn,
          framesOut: s.framesOut,
          framesRepeated: s.framesRepeated,
          framesSlate: s.framesSlate,
          dropped: totalDropped(s),
          flow: describeFlow(h.flow()),
          droppedEncoderBusy: s.droppedEncoderBusy,
          reconnects: s.reconnects,
          inferenceMs: s.lastInferenceMs,
        },
        'run stats',
      );
    }
  }

  /** A stop request (API or SQL): stopping → stopped, persisted. */
  stop(runId: string, reason = 'stop requested'): void {
    void this.runs.get(runId)?.handle?.stop(reason);
  }

  /** SIGTERM: stop every run locally and hand it back to pending so another engine takes it. */
  async releaseAll(): Promise<void> {
    const all = [...this.runs.values()];
    // Each step logged: an operator watching a slow drain sees which run it waits for.
    this.d.logger.info({ runs: all.map((s) => s.row.id) }, `draining: releasing ${all.length} run(s) to pending`);
    await Promise.all(
      all.map(async (sup) => {
        sup.persist = false;
        await sup.chain;
        await sup.handle?.stop('engine shutting down');
        try {
          const written = await releaseRun(this.d.pool, { runId: sup.row.id, engineId: this.d.engineId, leaseEpoch: sup.row.lease_epoch });
          // Not written: the run had ended, or another engine owns it now (our lease was lost).
          this.d.logger.info({ runId: sup.row.id }, written ? 'draining: run released (pending, or stopped if a stop was requested)' : 'draining: run not ours any more or already ended; nothing to release');
        } catch (err) {
          this.d.logger.error({ runId: sup.row.id, err: coerceError(err).message }, 'release failed');
        }
        await sup.ended;
      }),
    );
  }

  /** Our lease is gone: other engines own these runs now. Stop them, write nothing. */
  async abandonAll(): Promise<void> {
    await Promise.all(
      [...this.runs.values()].map(async (sup) => {
        sup.persist = false;
        await sup.handle?.stop('lease lost');
        // Torn down before the poller registers again and claims: a run claimed anew is then a new entry.
        // Not forever: a last write blocked on a row lock (there is no statement timeout) must not keep the
        // engine from registering again; the entry's identity keeps a later claim of the run apart anyway.
        await withTimeout(sup.ended, TEARDOWN_WAIT_MS, 'teardown still writing').catch(() =>
          this.d.logger.warn({ runId: sup.row.id }, 'run teardown still writing after the lease was lost; going on without it'),
        );
      }),
    );
  }
}

/** How long abandonAll waits for one run's teardown (its last writes) before it goes on. */
const TEARDOWN_WAIT_MS = 10_000;
