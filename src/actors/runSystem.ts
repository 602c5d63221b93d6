import { createActor, fromPromise, type Actor, type InspectionEvent, type Observer } from 'xstate';
import { runMachine, runStateName, type RetryPolicy, type RunError, type RunStateName } from '../machines/run.machine.js';
import { createDecoderActor } from './decoder.js';
import { createStageActor } from './stage.js';
import { createPublisherActor } from './publisher.js';
import { newStopTracker } from './stopTracker.js';
import type { ConfigBody } from '../config/body.js';
import type { RuleEvent } from '../rules/index.js';
import type { RuleCounters } from '../rules/index.js';
import type { AppliedConfig, StageName } from '../frame.js';
import { createRunStore, type RunStats, type RunStore } from '../pipeline/runStore.js';
import type { FrameOutput, FrameOutputTiming } from '../pipeline/frameTimings.js';
import type { RunTracer } from '../observability/tracing.js';
import { preciseNowMs } from '../clock.js';
import { closeRunQueues, newRunQueues } from '../pipeline/queues.js';
import { FramePool } from '../pipeline/framePool.js';
import { createProcessingStages, type ProcessingStages } from '../pipeline/processingStages.js';
import { checkedDetector, detectorOptionsFor } from '../pipeline/stages/inference.js';
import { createDetector as createDetectorHere, type Detector, type DetectorFactory, type DetectorOptions } from '../inference/detector.js';
import type { SourceSpec } from '../io/ffmpeg/decoder.js';
import type { EncoderSettings } from '../io/ffmpeg/encoder.js';
import type { RtspMount, RtspServer } from '../io/rtsp/index.js';
import { InternalError, coerceError, toRunError } from '../errors.js';
import type { Logger } from '../log.js';
import { FlowMonitor, NO_FLOW, type FlowReading } from '../pipeline/flow.js';
import type { SieMetrics } from '../observability/metrics.js';

export type RunOutput = { kind: 'embedded'; server: RtspServer; mountPath: string } | { kind: 'push'; url: string };

export interface RunOptions {
  runId: string;
  /** Stately's inspector for the run's machine and its children (src/io/stately/inspector.ts); none by default. */
  inspect?: Observer<InspectionEvent>;
  clientId: string;
  /** Shown in the output's header. */
  name: string;
  source: SourceSpec;
  /** The model; thresholds and classes come from `config.inference`. */
  detector: DetectorOptions;
  /** Where detectors run (an inference pool's workers); createDetector on the event loop by default. */
  createDetector?: DetectorFactory;
  /** The client config (inference, rules, drawing) the run starts with; reconfigure() replaces it while it runs. */
  config: ConfigBody;
  /** Part of every event id: a run executed again (taken over) must not reuse ids. */
  eventIdEpoch?: string;
  /** Events of the rules, handed over without blocking. */
  onEvents?(events: RuleEvent[]): void;
  output: RunOutput;
  encoder: EncoderSettings;
  retry: RetryPolicy;
  connectTimeoutS: number;
  stallTimeoutS: number;
  logger: Logger;
  /** Every state change, with the error that caused it (the engine persists them as transitions). */
  onTransition?(state: RunStateName, error: RunError | null, attempt: number): void;
  /** Each output frame's timing, from arrival to its RTSP packets sent (embedded output only: a push output
   *  gives no access units back); called on the pipeline's thread, must not block. */
  onFrameSent?(t: FrameOutputTiming): void;
  /** Frame tracing (src/observability/tracing.ts); none = off, frames carry no trace. */
  tracer?: RunTracer;
  /** The process's Prometheus metrics: the run's series live from its start to its end. */
  metrics?: SieMetrics;
}

export interface RunOutcome {
  state: RunStateName;
  error: RunError | null;
}

export interface RunHandle {
  readonly runId: string;
  /** The counters now (a snapshot of the run's store). */
  readonly stats: RunStats;
  /** The state the run's stages share (config, source, counters). */
  readonly store: RunStore;
  readonly actor: Actor<typeof runMachine>;
  state(): RunStateName;
  /** Rule counters now (undefined before the first frame). */
  counters(): Record<string, RuleCounters> | undefined;
  /** Stalled (the source went quiet) vs blocked (a stage downstream cannot keep up), see src/pipeline/flow.ts;
   *  sampled once a second. */
  flow(): FlowReading;
  /** The embedded mount's readers and RTP bytes sent; undefined for a push output or before the mount. */
  output(): { readers: number; bytesSent: number } | undefined;
  /** Applies a new config from the next decoded frame on; the output stream and unchanged rules' state stay.
   *  Rejects (and keeps the old config) when it cannot be applied, e.g. an unknown class name. */
  reconfigure(body: ConfigBody): Promise<void>;
  /** Resolves when the run reached a final state AND both ffmpeg processes are reaped. */
  readonly done: Promise<RunOutcome>;
  stop(reason?: string): Promise<RunOutcome>;
}

/** Builds one run's actor system: the run machine with the real stage actors, and starts it. */
export function startRun(o: RunOptions): RunHandle {
  const log = o.logger.child({ runId: o.runId });
  const store = createRunStore({ config: o.config });
  const frames = new FramePool();
  const tracer = o.tracer;
  const queues = newRunQueues(store, frames, undefined, tracer && ((frame, before) => tracer.frameDropped(frame, before, preciseNowMs())));
  const stopping = newStopTracker();
  const track = (p: Promise<unknown>) => stopping.track(p);
  const createDetector = o.createDetector ?? createDetectorHere;
  // Detectors built (and checked) by reconfigure() before their config was applied, by config body: the
  // store keeps the body it was given, so the inference stage finds it on the first frame of that version.
  const prepared = new WeakMap<ConfigBody, Detector>();
  const detectorFor = async (config: AppliedConfig): Promise<Detector> =>
    prepared.get(config.body) ?? createDetector(detectorOptionsFor(o.detector, config.body));
  let stages: ProcessingStages | undefined;
  let mount: RtspMount | undefined;
  const stageActor = (name: StageName) =>
    createStageActor(() => {
      const list = stages?.list ?? [];
      const i = list.findIndex((s) => s.name === name);
      if (i < 0) throw new InternalError(`no ${name} stage in this run`);
      return { stage: list[i]!, input: queues[name], output: queues[list[i + 1]?.name ?? 'output'] };
    });

  const output = () => (mount ? { readers: mount.readerCount, bytesSent: mount.stats.bytesSent } : undefined);
  const monitor = new FlowMonitor();
  const sampleFlow = () => {
    const { stats, source } = store.getSnapshot().context;
    return monitor.sample({
      runState: runStateName(actor.getSnapshot().value),
      stats,
      fps: source.info?.fps,
      lastArrivalMs: source.last?.atMs,
      // The arrival's clock (the decoder stamps frames with preciseNowMs): the wall clock may step away
      // from it (NTP, a resumed VM), and every flowing run would then read stalled.
      nowMs: preciseNowMs(),
    });
  };
  const flowTimer = setInterval(sampleFlow, 1000);
  flowTimer.unref();
  const meter = o.metrics?.trackRun({
    runId: o.runId,
    clientId: o.clientId,
    stats: () => store.getSnapshot().context.stats,
    output,
    flow: () => monitor.reading,
  });
  // Each new frame's way out goes to the metrics, the timings file and the frame's trace; with none of
  // them the output clock keeps no origin per frame at all.
  const onFrameSent =
    meter || o.onFrameSent || tracer
      ? (t: FrameOutput) => {
          meter?.frameSent(t);
          o.onFrameSent?.(t);
          tracer?.frameOut(t);
        }
      : undefined;
  // Called once the run has ended: no reading, no series.
  const endObservation = () => {
    clearInterval(flowTimer);
    meter?.remove();
  };

  const machine = runMachine.provide({
    actors: {
      prepare: fromPromise(async ({ signal }) => {
        const { config } = store.getSnapshot().context;
        // A config stored by plain SQL, or a file, has not met the API's checks: a class the model lacks fails
        // the run now (config_invalid) rather than blurring nothing or counting nothing.
        const detector = await checkedDetector(createDetector, o.detector, config.body);
        // Stopped while the model loaded: the run has ended (and cleaned up); a mount made now would stay.
        if (signal.aborted) return;
        stages = createProcessingStages({
          store,
          runId: o.runId,
          clientId: o.clientId,
          eventIdEpoch: o.eventIdEpoch,
          labels: detector.labels,
          title: o.name,
          detectorFor,
          initialDetector: detector,
          onEvents: (events) => o.onEvents?.(events),
          draw: true,
        });
        if (o.output.kind === 'embedded') mount = o.output.server.createMount(o.output.mountPath, { codec: 'h264' });
      }),
      decoder: createDecoderActor({
        runId: o.runId,
        source: o.source,
        output: queues.inference,
        allocateFrame: (size) => frames.acquire(size),
        store,
        logger: log,
        stallTimeoutS: o.stallTimeoutS,
        ioTimeoutS: o.connectTimeoutS,
        track,
        traceFrame: tracer && ((frameId) => tracer.newFrame(frameId)),
      }),
      inference: stageActor('inference'),
      rules: stageActor('rules'),
      drawing: stageActor('drawing'),
      publisher: createPublisherActor({
        input: queues.output,
        store,
        encoder: o.encoder,
        getMount: () => mount,
        pushUrl: o.output.kind === 'push' ? o.output.url : undefined,
        logger: log,
        track,
        releasePicture: (pixels) => frames.release(pixels),
        onFrameSent,
        onFramePushed: tracer && ((t) => tracer.frameOut(t)),
        onFrameLost: tracer && ((f, atMs) => tracer.frameDropped(f, 'encoder', atMs)),
      }),
      // The file ended: what the decoder gave goes through every stage; the output has taken the last frame.
      drain: fromPromise(async () => {
        queues.inference.close();
        await queues.output.drained();
      }),
      shutdown: fromPromise(async () => {
        closeRunQueues(queues);
        await stopping.settled();
      }),
    },
  });

  const actor = createActor(machine, {
    input: { runId: o.runId, retry: o.retry, connectTimeoutS: o.connectTimeoutS },
    ...(o.inspect ? { inspect: o.inspect } : {}),
  });
  let last: RunStateName | undefined;
  let resolveDone!: (r: RunOutcome) => void;
  const done = new Promise<RunOutcome>((r) => (resolveDone = r));
  actor.subscribe({
    next: (snap) => {
      const name = runStateName(snap.value);
      if (name !== last) {
        if (name === 'retrying') store.trigger.reconnecting();
        last = name;
        const error = snap.context.error;
        log.info({ state: name, error: error ?? undefined }, 'run state');
        o.onTransition?.(name, error, snap.context.attempt);
      }
      if (snap.status === 'done') {
        endObservation();
        // Every enter/started gets its leave/ended: the rules close what is still open on the last frame seen.
        stages?.close();
        void (async () => {
          closeRunQueues(queues);
          await stopping.settled();
          if (mount && o.output.kind === 'embedded') o.output.server.removeMount(mount.path);
          resolveDone({ state: name, error: snap.context.error });
        })();
      }
    },
    error: (err) => {
      const e = coerceError(err);
      log.error({ err: e.message }, 'run actor crashed');
      endObservation();
      closeRunQueues(queues);
      void stopping.settled().then(() => {
        if (mount && o.output.kind === 'embedded') o.output.server.removeMount(mount.path);
        resolveDone({ state: 'failed', error: toRunError(e, { final: true }) });
      });
    },
  });
  actor.start();

  return {
    runId: o.runId,
    get stats() {
      return store.getSnapshot().context.stats;
    },
    store,
    actor,
    state: () => runStateName(actor.getSnapshot().value),
    counters: () => stages?.rules.counters(),
    flow: () => (actor.getSnapshot().status === 'active' ? monitor.reading : NO_FLOW),
    output,
    reconfigure: async (body) => {
      // Check every class name and build the new detector first: if the version cannot work, nothing
      // changes and the run keeps the version it has (a stage would otherwise fail on its next frame).
      prepared.set(body, await checkedDetector(createDetector, o.detector, body));
      store.trigger.configApplied({ body });
      log.info({ version: store.getSnapshot().context.config.version }, 'config applied');
    },
    done,
    stop: (reason) => {
      if (actor.getSnapshot().status === 'active') actor.send({ type: 'run.stop', reason });
      return done;
    },
  };
}
