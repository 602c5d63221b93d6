import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, fromPromise, SimulatedClock, type AnyActorRef, type EventObject } from 'xstate';
import { backoffMs, runMachine, runStateName, type RunEvent, type RunStateName } from '../../src/machines/run.machine.js';
import { ModelError, ModelFetchError } from '../../src/errors.js';

/**
 * The run machine with its stage actors replaced by doubles: pure logic, simulated time.
 * `decoder` exposes sendBack so each test plays the source's part.
 */
function harness(opts: { prepareFails?: boolean; fetchFailures?: number; maxAttempts?: number; connectTimeoutS?: number } = {}) {
  let prepares = 0;
  let drained!: () => void;
  let drainStarts = 0;
  const clock = new SimulatedClock();
  let decoderSend: ((e: RunEvent) => void) | undefined;
  let decoderStarts = 0;
  let decoderStops = 0;
  const publisherHeard: string[] = [];
  const stub = fromCallback<EventObject>(() => () => undefined);
  const machine = runMachine.provide({
    actors: {
      prepare: fromPromise<void, { runId: string }>(async () => {
        prepares++;
        if (opts.prepareFails) throw new ModelError('bad model');
        if (prepares <= (opts.fetchFailures ?? 0)) throw new ModelFetchError(`store down (${prepares})`);
      }),
      decoder: fromCallback<EventObject>(({ sendBack }) => {
        decoderStarts++;
        decoderSend = sendBack as (e: RunEvent) => void;
        return () => void decoderStops++;
      }),
      inference: stub,
      rules: stub,
      drawing: stub,
      publisher: fromCallback<EventObject>(({ receive }) => {
        receive((e) => publisherHeard.push(e.type));
        return () => undefined;
      }),
      drain: fromPromise<void, { runId: string }>(() => {
        drainStarts++;
        return new Promise<void>((r) => (drained = r));
      }),
      shutdown: fromPromise<void, { runId: string }>(async () => undefined),
    },
  });
  const actor = createActor(machine, {
    clock,
    input: {
      runId: 'r1',
      retry: { maxAttempts: opts.maxAttempts ?? 3, backoffInitialS: 1, backoffMaxS: 4 },
      connectTimeoutS: opts.connectTimeoutS ?? 10,
    },
  });
  const states: RunStateName[] = [];
  actor.subscribe((s) => {
    const n = runStateName(s.value);
    if (states.at(-1) !== n) states.push(n);
  });
  actor.start();
  return {
    actor: actor as AnyActorRef & typeof actor,
    clock,
    states,
    source: (e: RunEvent) => decoderSend!(e),
    counts: () => ({ decoderStarts, decoderStops, drainStarts, prepares }),
    /** Settles the drain the run started when the file ended. */
    drained: () => drained(),
    publisherHeard,
    state: () => runStateName(actor.getSnapshot().value),
    error: () => actor.getSnapshot().context.error,
  };
}

const flush = () => new Promise((r) => setTimeout(r, 0));
const lost = { type: 'decoder.failed', error: { kind: 'source_lost', message: 'gone', retryable: true } } as const;

describe('run machine', () => {
  it('starting → connecting → running on the first frame', async () => {
    const h = harness();
    await flush();
    expect(h.state()).toBe('connecting');
    h.source({ type: 'decoder.connected' });
    expect(h.state()).toBe('running');
    expect(h.states).toEqual(['starting', 'connecting', 'running']);
  });

  it('fails with source_unreachable when the source never connects within the timeout', async () => {
    const h = harness({ connectTimeoutS: 10 });
    await flush();
    h.clock.increment(9_999);
    expect(h.state()).toBe('connecting');
    h.clock.increment(1);
    expect(h.state()).toBe('failed');
    expect(h.error()?.kind).toBe('source_unreachable');
  });

  it('fails at once, without retrying, when the decoder cannot open the source at start', async () => {
    const h = harness();
    await flush();
    h.source({ type: 'decoder.failed', error: { kind: 'source_unreachable', message: 'refused', retryable: true } });
    expect(h.state()).toBe('failed');
    expect(h.counts().decoderStarts).toBe(1);
  });

  it('retries a lost source with doubling backoff and returns to running', async () => {
    const h = harness({ maxAttempts: 3 });
    await flush();
    h.source({ type: 'decoder.connected' });
    h.source(lost);
    expect(h.state()).toBe('retrying');
    expect(h.publisherHeard).toContain('source.lost');
    expect(h.counts().decoderStops).toBe(1);
    h.clock.increment(999);
    expect(h.state()).toBe('retrying');
    h.clock.increment(1); // 1 s backoff for attempt 1
    expect(h.state()).toBe('connecting');
    expect(h.counts().decoderStarts).toBe(2);
    h.source({ type: 'decoder.connected' });
    expect(h.state()).toBe('running');
    expect(h.publisherHeard.at(-1)).toBe('source.restored');
    expect(h.actor.getSnapshot().context.attempt).toBe(0);
  });

  it('fails with source_lost once every attempt failed', async () => {
    const h = harness({ maxAttempts: 2 });
    await flush();
    h.source({ type: 'decoder.connected' });
    h.source(lost);
    h.clock.increment(1000); // attempt 1
    h.source(lost);
    expect(h.state()).toBe('retrying');
    h.clock.increment(2000); // attempt 2
    expect(h.state()).toBe('connecting');
    h.source(lost);
    expect(h.state()).toBe('failed');
    expect(h.error()?.kind).toBe('source_lost');
    expect(h.error()?.message).toMatch(/2 reconnect attempts/);
  });

  it('a silent reconnect attempt times out into the next retry, not into failed', async () => {
    const h = harness({ maxAttempts: 3, connectTimeoutS: 5 });
    await flush();
    h.source({ type: 'decoder.connected' });
    h.source(lost);
    h.clock.increment(1000);
    expect(h.state()).toBe('connecting');
    h.clock.increment(5000);
    expect(h.state()).toBe('retrying');
  });

  it('non-retryable errors end the run at once', async () => {
    const h = harness();
    await flush();
    h.source({ type: 'decoder.connected' });
    h.actor.send({ type: 'stage.failed', error: { kind: 'model_error', message: 'boom', retryable: false } });
    expect(h.state()).toBe('failed');
    expect(h.error()?.kind).toBe('model_error');
  });

  it('a model that fails to load fails the run with its error kind', async () => {
    const h = harness({ prepareFails: true });
    await flush();
    expect(h.state()).toBe('failed');
    expect(h.error()).toEqual({ kind: 'model_error', message: 'bad model', retryable: false });
  });

  it('a model whose store is down is loaded again after the backoff (retrying), then the run connects', async () => {
    const h = harness({ fetchFailures: 2, maxAttempts: 3 });
    await flush();
    expect(h.state()).toBe('retrying');
    expect(h.error()).toEqual({ kind: 'model_error', message: 'store down (1)', retryable: true });
    expect(h.counts().decoderStarts).toBe(0);
    h.clock.increment(999);
    expect(h.counts().prepares).toBe(1);
    h.clock.increment(1); // 1 s for attempt 1
    await flush();
    expect(h.counts().prepares).toBe(2);
    expect(h.state()).toBe('retrying');
    h.clock.increment(2000); // 2 s for attempt 2
    await flush();
    expect(h.counts().prepares).toBe(3);
    expect(h.state()).toBe('connecting');
    h.source({ type: 'decoder.connected' });
    expect(h.state()).toBe('running');
    expect(h.states).toEqual(['starting', 'retrying', 'starting', 'retrying', 'starting', 'connecting', 'running']);
  });

  it('a model store down through every attempt fails the run for good, with the last error', async () => {
    const h = harness({ fetchFailures: 99, maxAttempts: 1 });
    await flush();
    h.clock.increment(1000);
    await flush();
    expect(h.state()).toBe('failed');
    expect(h.counts().prepares).toBe(2);
    expect(h.error()?.kind).toBe('model_error');
    expect(h.error()?.retryable).toBe(false);
    expect(h.error()?.message).toMatch(/could not be loaded in 2 attempts; last error: store down \(2\)/);
  });

  it('stop while waiting to load the model again goes to stopped', async () => {
    const h = harness({ fetchFailures: 99 });
    await flush();
    h.actor.send({ type: 'run.stop', reason: 'user' });
    await flush();
    expect(h.states.slice(-2)).toEqual(['stopping', 'stopped']);
  });

  it('stop goes through stopping to stopped, from any live state', async () => {
    const h = harness();
    await flush();
    h.source({ type: 'decoder.connected' });
    h.actor.send({ type: 'run.stop', reason: 'user' });
    await flush();
    expect(h.states.slice(-2)).toEqual(['stopping', 'stopped']);
    expect(h.actor.getSnapshot().context.stopReason).toBe('user');
    expect(h.counts().decoderStops).toBe(1);
  });

  it('a file source that ends completes the run once the frames in flight have gone through', async () => {
    const h = harness();
    await flush();
    h.source({ type: 'decoder.connected' });
    h.source({ type: 'decoder.ended' });
    // Draining is still `running` to anyone outside; the run completes when the drain does.
    expect(h.state()).toBe('running');
    expect(h.actor.getSnapshot().value).toEqual({ active: { source: 'draining' } });
    expect(h.counts().drainStarts).toBe(1);
    h.drained();
    await flush();
    expect(h.state()).toBe('completed');
    expect(h.actor.getSnapshot().status).toBe('done');
  });

  it('a drain that never finishes (the output stopped taking frames) completes the run after 5 s', async () => {
    const h = harness();
    await flush();
    h.source({ type: 'decoder.connected' });
    h.source({ type: 'decoder.ended' });
    h.clock.increment(4_999);
    expect(h.state()).toBe('running');
    h.clock.increment(1);
    expect(h.state()).toBe('completed');
  });

  it.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 4000],
  ])('backoff for attempt %i is %i ms (capped)', (attempt, ms) => {
    expect(backoffMs({ maxAttempts: 9, backoffInitialS: 1, backoffMaxS: 4 }, attempt)).toBe(ms);
  });
});
