import { assign, fromCallback, fromPromise, sendTo, setup, type EventObject } from 'xstate';
import { ModelError, SourceLostError, SourceUnreachableError, toRunError, type RunError } from '../errors.js';

/**
 * The lifecycle of one run. Pure: it imports no I/O. The stage actors (decoder, inference, rules,
 * drawing, publisher) and the drain are provided by src/actors/runSystem.ts; tests provide doubles. Frames never pass
 * through here — only lifecycle events do.
 *
 *   starting → active.source.connecting → active.source.running ⇄ active.retrying → failed
 *            ↘ failed                                            stop → stopping → stopped
 *                                   file source ends → draining → completed
 */

export interface RetryPolicy {
  maxAttempts: number;
  backoffInitialS: number;
  backoffMaxS: number;
}

export type { RunError };

export interface RunMachineInput {
  runId: string;
  retry: RetryPolicy;
  connectTimeoutS: number;
}

export interface RunContext extends RunMachineInput {
  /** Reconnect attempts used in the current outage. */
  attempt: number;
  /** Whether the source ever delivered a frame in this run: decides between "unreachable" and "lost". */
  everConnected: boolean;
  error: RunError | null;
  stopReason: string | null;
}

export type RunEvent =
  | { type: 'decoder.connected' }
  | { type: 'decoder.ended' }
  | { type: 'decoder.failed'; error: RunError }
  | { type: 'stage.failed'; error: RunError }
  | { type: 'run.stop'; reason?: string };

/** The state names a run is persisted and reported with. */
export type RunStateName =
  | 'starting'
  | 'connecting'
  | 'running'
  | 'retrying'
  | 'stopping'
  | 'stopped'
  | 'failed'
  | 'completed';

/** Maps the machine's (possibly nested) state value onto the one persisted name. */
export function runStateName(value: unknown): RunStateName {
  // Waiting to load the model again is retrying, as waiting to reconnect is.
  if (value === 'preparingAgain') return 'retrying';
  if (typeof value === 'string') return value as RunStateName;
  const active = (value as { active?: unknown }).active;
  if (active === 'retrying') return 'retrying';
  const source = (active as { source?: string } | undefined)?.source;
  // Draining the last frames of a file is still running, as far as anyone outside can tell.
  return source === 'running' || source === 'draining' ? 'running' : 'connecting';
}

export function backoffMs(retry: RetryPolicy, attempt: number): number {
  const s = Math.min(retry.backoffMaxS, retry.backoffInitialS * 2 ** Math.max(0, attempt - 1));
  return Math.round(s * 1000);
}

const placeholder = fromCallback<EventObject>(() => () => undefined);

export const runMachine = setup({
  types: {
    context: {} as RunContext,
    events: {} as RunEvent,
    input: {} as RunMachineInput,
  },
  actors: {
    prepare: fromPromise<void, { runId: string }>(async () => undefined),
    decoder: placeholder,
    inference: placeholder,
    rules: placeholder,
    drawing: placeholder,
    publisher: placeholder,
    drain: fromPromise<void, { runId: string }>(async () => undefined),
    shutdown: fromPromise<void, { runId: string }>(async () => undefined),
  },
  guards: {
    isFatal: ({ event }) => 'error' in event && !event.error.retryable,
    preparationRetryable: ({ event }) => toRunError((event as { error?: unknown }).error).retryable,
    neverConnected: ({ context }) => !context.everConnected,
    // Entered once per attempt: the (max+1)-th entry means every allowed attempt has failed.
    attemptsExhausted: ({ context }) => context.attempt > context.retry.maxAttempts,
  },
  delays: {
    connectTimeout: ({ context }) => context.connectTimeoutS * 1000,
    retryBackoff: ({ context }) => backoffMs(context.retry, context.attempt),
    // Frames in flight take a few output ticks; an output that stopped taking them must not hold the run.
    drainTimeout: 5000,
  },
  actions: {
    recordError: assign({
      error: ({ event }) => ('error' in event ? event.error : null),
    }),
    recordErrorFromDone: assign({
      error: ({ event }) => {
        const e = (event as { error?: unknown }).error;
        return toRunError(e);
      },
    }),
    recordConnectTimeout: assign({
      error: ({ context }) => toRunError(new SourceUnreachableError(`no frame from the source within ${context.connectTimeoutS} s`)),
    }),
    recordAttemptsExhausted: assign({
      error: ({ context }) =>
        toRunError(
          new SourceLostError(
            `source lost and ${context.retry.maxAttempts} reconnect attempts failed${context.error ? `; last error: ${context.error.message}` : ''}`,
          ),
          { final: true },
        ),
    }),
    recordPreparationAttemptsExhausted: assign({
      error: ({ context }) =>
        toRunError(new ModelError(`the model could not be loaded in ${context.retry.maxAttempts + 1} attempts; last error: ${context.error?.message ?? 'none'}`), {
          final: true,
        }),
    }),
    markConnected: assign({ everConnected: true, attempt: 0, error: null }),
    countAttempt: assign({ attempt: ({ context }) => context.attempt + 1 }),
    recordStopReason: assign({
      stopReason: ({ event }) => (event.type === 'run.stop' ? (event.reason ?? 'stop requested') : null),
    }),
    tellPublisherSourceLost: sendTo('publisher', { type: 'source.lost' }),
    tellPublisherSourceBack: sendTo('publisher', { type: 'source.restored' }),
  },
}).createMachine({
  id: 'run',
  description: 'One run: a source, a model and a config, published as an annotated RTSP stream.',
  context: ({ input }) => ({ ...input, attempt: 0, everConnected: false, error: null, stopReason: null }),
  initial: 'starting',
  states: {
    starting: {
      description: 'Loads the model (shared per process) and prepares the output mount.',
      invoke: {
        src: 'prepare',
        input: ({ context }) => ({ runId: context.runId }),
        onDone: 'active',
        onError: [
          { guard: 'preparationRetryable', target: 'preparingAgain', actions: 'recordErrorFromDone' },
          { target: 'failed', actions: 'recordErrorFromDone' },
        ],
      },
      on: { 'run.stop': { target: 'stopping', actions: 'recordStopReason' } },
    },
    preparingAgain: {
      description: 'The model could not be fetched (its store unreachable): waiting out the backoff, then loading it again.',
      entry: 'countAttempt',
      always: { guard: 'attemptsExhausted', target: 'failed', actions: 'recordPreparationAttemptsExhausted' },
      after: { retryBackoff: 'starting' },
      on: { 'run.stop': { target: 'stopping', actions: 'recordStopReason' } },
    },
    active: {
      description: 'The processing stages and the publisher run; the output stream stays up through reconnects.',
      invoke: [
        { src: 'inference', id: 'inference' },
        { src: 'rules', id: 'rules' },
        { src: 'drawing', id: 'drawing' },
        { src: 'publisher', id: 'publisher' },
      ],
      on: {
        'stage.failed': { target: 'failed', actions: 'recordError' },
        'run.stop': { target: 'stopping', actions: 'recordStopReason' },
      },
      initial: 'source',
      states: {
        source: {
          description: 'ffmpeg #1 is connected to, or connecting to, the source.',
          invoke: { src: 'decoder', id: 'decoder' },
          initial: 'connecting',
          on: {
            'decoder.failed': [
              { guard: 'isFatal', target: '#run.failed', actions: 'recordError' },
              // Not reachable at start: the run fails at once, retries are for outages.
              { guard: 'neverConnected', target: '#run.failed', actions: 'recordError' },
              { target: 'retrying', actions: 'recordError' },
            ],
          },
          states: {
            connecting: {
              description: 'Waiting for the first frame from the source.',
              after: {
                connectTimeout: [
                  { guard: 'neverConnected', target: '#run.failed', actions: 'recordConnectTimeout' },
                  { target: '#run.active.retrying', actions: 'recordConnectTimeout' },
                ],
              },
              on: { 'decoder.connected': { target: 'running', actions: ['markConnected', 'tellPublisherSourceBack'] } },
            },
            running: {
              description: 'Frames flow from the source through every stage to the output.',
              on: { 'decoder.ended': 'draining' },
            },
            draining: {
              description: 'The file source ended: the frames still in the stages go through to the output, then the run completes.',
              invoke: { src: 'drain', input: ({ context }) => ({ runId: context.runId }), onDone: '#run.completed', onError: '#run.completed' },
              after: { drainTimeout: '#run.completed' },
            },
          },
        },
        retrying: {
          description: 'Source lost: the output shows a slate while we wait out the backoff, then reconnect.',
          entry: ['countAttempt', 'tellPublisherSourceLost'],
          always: { guard: 'attemptsExhausted', target: '#run.failed', actions: 'recordAttemptsExhausted' },
          after: { retryBackoff: 'source' },
        },
      },
    },
    stopping: {
      description: 'Stages are stopped; waiting until both ffmpeg processes are reaped.',
      invoke: {
        src: 'shutdown',
        input: ({ context }) => ({ runId: context.runId }),
        onDone: 'stopped',
        onError: 'stopped',
      },
    },
    stopped: { type: 'final', description: 'Stopped on request.' },
    failed: { type: 'final', description: 'Ended by an error; see context.error.' },
    completed: { type: 'final', description: 'The file source reached its end and its frames went through (or the drain timed out).' },
  },
});
