import { createActor, fromPromise, type Actor } from 'xstate';
import { runMachine, runStateName, type RetryPolicy, type RunError, type RunStateName } from '../machines/run.machine.js';
import { createDecoderActor } from './decoder.js';
import { createInferenceActor } from './inference.js';
import { createRulesActor, newRulesHistory } from './rules.js';
import { createDrawingActor } from './drawing.js';
import { createPublisherActor } from './publisher.js';
import { closePipes, newRunPipes, newRunStats, type RunStats, type SourceState } from './resources.js';
import { createDetector, type Detector, type DetectorOptions } from '../io/models/detector.js';
import type { SourceSpec } from '../io/ffmpeg/decoder.js';
import type { EncoderSettings } from '../io/ffmpeg/encoder.js';
import type { RtspMount, RtspServer } from '../io/rtsp/index.js';
import { coerceError } from '../errors.js';
import type { Logger } from '../log.js';

export type RunOutput = { kind: 'embedded'; server: RtspServer; mountPath: string } | { kind: 'push'; url: string };

export interface RunOptions {
  runId: string;
  source: SourceSpec;
  detector: DetectorOptions;
  output: RunOutput;
  encoder: EncoderSettings;
  retry: RetryPolicy;
  connectTimeoutS: number;
  stallTimeoutS: number;
  logger: Logger;
  /** Every state change, with the error that caused it (persistence hooks in here later). */
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
  const stopping: Promise<unknown>[] = [];
  const track = (p: Promise<unknown>) => void stopping.push(p);
  let detector: Detector | undefined;
  let mount: RtspMount | undefined;

  const machine = runMachine.provide({
    actors: {
      prepare: fromPromise(async () => {
        detector = await createDetector(o.detector);
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
      inference: createInferenceActor({ pipes, stats, getDetector: () => detector!, logger: log }),
      rules: createRulesActor({ pipes, history }),
      drawing: createDrawingActor({ pipes, stats, labels: () => detector?.labels ?? [] }),
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
        await Promise.allSettled(stopping);
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
        void (async () => {
          closePipes(pipes);
          await Promise.allSettled(stopping);
          if (mount && o.output.kind === 'embedded') o.output.server.removeMount(mount.path);
          resolveDone({ state: name, error: snap.context.error });
        })();
      }
    },
    error: (err) => {
      const e = coerceError(err);
      log.error({ err: e.message }, 'run actor crashed');
      closePipes(pipes);
      void Promise.allSettled(stopping).then(() => resolveDone({ state: 'failed', error: { kind: e.kind, message: e.message, retryable: false } }));
    },
  });
  actor.start();

  return {
    runId: o.runId,
    stats,
    actor,
    state: () => runStateName(actor.getSnapshot().value),
    done,
    stop: (reason) => {
      if (actor.getSnapshot().status === 'active') actor.send({ type: 'run.stop', reason });
      return done;
    },
  };
}
