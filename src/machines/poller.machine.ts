import { assign, fromCallback, fromPromise, setup, type EventObject } from 'xstate';

/**
 * One engine's job taker. Pure: the database work is done by actors provided by src/actors/poller.ts.
 *
 *   registering → active.claiming ⇄ active.waiting      (NOTIFY nudges and the heartbeat's pending check;
 *                                                         claiming again at once while rounds take runs;
 *                                                         a round decides whether a claim is due)
 *   active → leaseLost → registering                     (our lease expired: runs abandoned, start over)
 *   active → draining → stopped                          (SIGTERM: runs released for other engines)
 */

export interface PollerInput {
  pollIntervalS: number;
  /** Wait before trying to register again when the database is down. */
  registerRetryS: number;
}

export interface PollerContext extends PollerInput {
  nudged: boolean;
  lastError: string | null;
}

export type PollerEvent =
  | { type: 'poller.nudge' }
  | { type: 'engine.drain' }
  | { type: 'lease.lost' };

const placeholder = fromCallback<EventObject>(() => () => undefined);

export const pollerMachine = setup({
  types: { context: {} as PollerContext, events: {} as PollerEvent, input: {} as PollerInput },
  actors: {
    register: fromPromise<void>(async () => undefined),
    heartbeat: placeholder,
    listener: placeholder,
    claim: fromPromise<number>(async () => 0),
    abandonRuns: fromPromise<void>(async () => undefined),
    release: fromPromise<void>(async () => undefined),
  },
  guards: {
    wasNudged: ({ context }) => context.nudged,
    /** The round took runs: there may be more (a claim looks at CLAIM_BATCH runs at most). */
    claimedSome: ({ event }) => Number((event as { output?: unknown }).output) > 0,
  },
  delays: {
    pollInterval: ({ context }) => context.pollIntervalS * 1000,
    registerRetry: ({ context }) => context.registerRetryS * 1000,
  },
  actions: {
    markNudged: assign({ nudged: true }),
    clearNudge: assign({ nudged: false }),
    recordError: assign({
      lastError: ({ event }) => {
        const e = (event as { error?: unknown }).error;
        return e instanceof Error ? e.message : String(e);
      },
    }),
    clearError: assign({ lastError: null }),
  },
}).createMachine({
  id: 'poller',
  description: "Claims pending runs for this engine and keeps the engine's lease alive.",
  context: ({ input }) => ({ ...input, nudged: false, lastError: null }),
  initial: 'registering',
  on: { 'engine.drain': '.draining' },
  states: {
    registering: {
      description: 'Writes the engine row (our lease) to the database.',
      invoke: {
        src: 'register',
        onDone: { target: 'active', actions: 'clearError' },
        onError: { target: 'registerBackoff', actions: 'recordError' },
      },
    },
    registerBackoff: {
      description: 'The database was not reachable: wait, then try to register again.',
      after: { registerRetry: 'registering' },
    },
    active: {
      description: 'Registered: heartbeats renew the lease and bring the backstops (stops, config changes, waiting runs, expiring leases); pending runs are claimed up to capacity.',
      invoke: [
        { src: 'heartbeat', id: 'heartbeat' },
        { src: 'listener', id: 'listener' },
      ],
      on: { 'lease.lost': 'leaseLost' },
      initial: 'claiming',
      states: {
        claiming: {
          description: 'Claims the pending runs that fit, when a claim is due (nudged, a run waiting, room freed, LISTEN down).',
          entry: 'clearNudge',
          on: { 'poller.nudge': { actions: 'markNudged' } },
          invoke: {
            src: 'claim',
            onDone: [
              { guard: 'wasNudged', target: 'claiming', reenter: true },
              { guard: 'claimedSome', target: 'claiming', reenter: true },
              { target: 'waiting' },
            ],
            onError: { target: 'waiting', actions: 'recordError' },
          },
        },
        waiting: {
          description: 'Idle until a NOTIFY or the heartbeat nudges us, or the poll interval passes.',
          on: { 'poller.nudge': 'claiming' },
          after: { pollInterval: 'claiming' },
        },
      },
    },
    leaseLost: {
      description: 'Another engine took our runs: stop them at once, writing nothing, then register anew.',
      invoke: { src: 'abandonRuns', onDone: 'registering', onError: 'registering' },
    },
    draining: {
      description: 'Shutting down: stops every run and hands it back to pending for another engine.',
      invoke: { src: 'release', onDone: 'stopped', onError: { target: 'stopped', actions: 'recordError' } },
      // Already draining: a second drain (a second signal, stop() called twice) must not re-enter this
      // state, which would start the release a second time alongside the first.
      on: { 'engine.drain': { actions: [] } },
    },
    stopped: { type: 'final', description: 'Runs released, engine row removed.' },
  },
});
