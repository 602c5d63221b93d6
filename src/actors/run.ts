import { createActor, fromPromise, type Actor } from 'xstate';
import { runMachine, runStateName, type RetryPolicy, type RunError, type RunStateName } from '../machines/run.machine.js';
import { createDecoderActor } from './decoder.js';
import { createInferenceActor } from './inference.js';
import { createRulesActor, newRulesHistory, type RulesHistory } from './rules.js';
import type { LiveConfig } from './liveConfig.js';
import type { ConfigBody } from '../config/index.js';
import type { RuleEvent } from '../rules/events.js';
import { assertKnownClassNames } from '../config/classNames.js';
import type { RuleCounters } from '../rules/types.js';
import { createDrawingActor } from './drawing.js';
import { createPublisherActor } from './publisher.js';
import { closePipes, newRunPipes, newRunStats, newStopTracker, type RunStats, type SourceState } from './resources.js';
import { createDetector, type Detector, type DetectorOptions } from '../inference/detector.js';
import type { SourceSpec } from '../io/ffmpeg/decoder.js';
import type { EncoderSettings } from '../io/ffmpeg/encoder.js';
import type { RtspMount, RtspServer } from '../io/rtsp/index.js';
import { coerceError, toRunError } from '../errors.js';
import type { Logger } from '../log.js';

export type RunOutput = { kind: 'embedded'; server: RtspServer; mountPath: string } | { kind: 'push'; url: string };

export interface RunOptions {
  runId: string;
  clientId: string;
  /** Shown in the output's header. */
  name: string;
  source: SourceSpec;
  /** The model; thresholds and classes come from `config.inference`. */
  detector: DetectorOptions;
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
}

export interface RunOutcome {
  state: RunStateName;
  error: RunError | null;
}

export interface RunHandle {
  readonly runId: string;
  readonly stats: RunStats;
  readonly actor: Actor<typeof runMachine>;
  state(): RunStateName;
  /** Rule counters now (undefined before the first frame). */
  counters(): Record<string, RuleCounters> | undefined;
  readonly history: RulesHistory;
  /** Applies a new config from the next frames on; the output stream and unchanged rules' state stay.
   *  Rejects (and keeps the old config) when it cannot be applied, e.g. an unknown class name. */
  reconfigure(body: ConfigBody): Promise<void>;
  /** Resolves when the run reached a final state AND both ffmpeg processes are reaped. */
  readonly done: Promise<RunOutcome>;
  stop(reason?: string): Promise<RunOutcome>;
}

/** Builds one run's actor system: the run machine with the real stage actors, and starts it. */
export function startRun(o: RunOptions): RunHandle {
  const log = o.logger.child({ runId: o.runId });
  const stats = newRunStats();
  const pipes = newRunPipes(stats);
  const sourceState: SourceState = { info: undefined, nextFrameId: 0 };
  const history = newRulesHistory();
  const stopping = newStopTracker();
  const track = (p: Promise<unknown>) => stopping.track(p);
  let detector: Detector | undefined;
  const live: LiveConfig = { body: o.config, version: 0 };
  const detectorOptions = (body: ConfigBody): DetectorOptions => ({
    ...o.detector,
    confidence: body.inference.confidence,
    iou: body.inference.iou,
    classes: body.inference.classes,
  });
  let mount: RtspMount | undefined;

  const machine = runMachine.provide({
    actors: {
      prepare: fromPromise(async ({ signal }) => {
        detector = await createDetector(detectorOptions(live.body));
        // Stopped while the model loaded: the run has ended (and cleaned up); a mount made now would stay.
        if (signal.aborted) return;
        // A config stored by plain SQL, or a file, has not met the API's checks: a class the model lacks fails
        // the run now (config_invalid) rather than blurring nothing or counting nothing.
        assertKnownClassNames(live.body, detector.labels);
        if (o.output.kind === 'embedded') mount = o.output.server.createMount(o.output.mountPath, { codec: 'h264' });
      }),
      decoder: createDecoderActor({
        runId: o.runId,
        source: o.source,
        pipes,
        stats,
        sourceState,
        logger: log,
        stallTimeoutS: o.stallTimeoutS,
        ioTimeoutS: o.connectTimeoutS,
        track,
      }),
      inference: createInferenceActor({ pipes, stats, config: live, getDetector: () => detector!, logger: log }),
      rules: createRulesActor({
        runId: o.runId,
        clientId: o.clientId,
        eventIdEpoch: o.eventIdEpoch,
        pipes,
        history,
        config: live,
        labels: () => detector?.labels ?? [],
        onEvents: (events) => o.onEvents?.(events),
      }),
      drawing: createDrawingActor({ pipes, stats, config: live, sourceState, labels: () => detector?.labels ?? [], title: o.name }),
      publisher: createPublisherActor({
        pipes,
        stats,
        sourceState,
        encoder: o.encoder,
        getMount: () => mount,
        pushUrl: o.output.kind === 'push' ? o.output.url : undefined,
        logger: log,
        track,
      }),
      shutdown: fromPromise(async () => {
        closePipes(pipes);
        await stopping.settled();
      }),
    },
  });

  const actor = createActor(machine, {
    input: { runId: o.runId, retry: o.retry, connectTimeoutS: o.connectTimeoutS },
  });
  let last: RunStateName | undefined;
  let resolveDone!: (r: RunOutcome) => void;
  const done = new Promise<RunOutcome>((r) => (resolveDone = r));
  actor.subscribe({
    next: (snap) => {
      const name = runStateName(snap.value);
      if (name !== last) {
        if (name === 'retrying') stats.reconnects++;
        last = name;
        const error = snap.context.error;
        log.info({ state: name, error: error ?? undefined }, 'run state');
        o.onTransition?.(name, error, snap.context.attempt);
      }
      if (snap.status === 'done') {
        // Every enter/started gets its leave/ended: close what is still open on the last frame seen.
        if (history.engine && history.lastFrame) {
          const closing = history.engine.finish(history.lastFrame);
          if (closing.length > 0) o.onEvents?.(closing);
        }
        void (async () => {
          closePipes(pipes);
          await stopping.settled();
          if (mount && o.output.kind === 'embedded') o.output.server.removeMount(mount.path);
          resolveDone({ state: name, error: snap.context.error });
        })();
      }
    },
    error: (err) => {
      const e = coerceError(err);
      log.error({ err: e.message }, 'run actor crashed');
      closePipes(pipes);
      void stopping.settled().then(() => {
        if (mount && o.output.kind === 'embedded') o.output.server.removeMount(mount.path);
        resolveDone({ state: 'failed', error: toRunError(e, { final: true }) });
      });
    },
  });
  actor.start();

  return {
    runId: o.runId,
    stats,
    actor,
    state: () => runStateName(actor.getSnapshot().value),
    counters: () => history.engine?.counters(),
    history,
    reconfigure: async (body) => {
      // Check every class name and build the new detector first: if the version cannot work, nothing
      // changes and the run keeps the version it has (the drawing stage would otherwise fail on its next frame).
      const next = await createDetector(detectorOptions(body));
      assertKnownClassNames(body, next.labels);
      detector = next;
      live.body = body;
      live.version++;
      log.info({ version: live.version }, 'config applied');
    },
    done,
    stop: (reason) => {
      if (actor.getSnapshot().status === 'active') actor.send({ type: 'run.stop', reason });
      return done;
    },
  };
}
