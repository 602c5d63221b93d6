import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, fromPromise, SimulatedClock, type EventObject } from 'xstate';
import { pollerMachine } from '../../src/machines/poller.machine.js';

/** The poller with its database actors replaced by doubles; simulated time. */
function harness(opts: { registerFails?: number } = {}) {
  const clock = new SimulatedClock();
  const calls = { register: 0, claim: 0, abandon: 0, release: 0 };
  let failuresLeft = opts.registerFails ?? 0;
  let finishClaim: (() => void) | undefined;
  const machine = pollerMachine.provide({
    actors: {
      register: fromPromise<void>(async () => {
        calls.register++;
        if (failuresLeft-- > 0) throw new Error('db down');
      }),
      heartbeat: fromCallback<EventObject>(() => () => undefined),
      listener: fromCallback<EventObject>(() => () => undefined),
      claim: fromPromise<number>(() => {
        calls.claim++;
        return new Promise<number>((r) => (finishClaim = () => r(0)));
      }),
      abandonRuns: fromPromise<void>(async () => void calls.abandon++),
      release: fromPromise<void>(async () => void calls.release++),
    },
  });
  const actor = createActor(machine, { clock, input: { pollIntervalS: 1, registerRetryS: 2 } });
  actor.start();
  const value = () => JSON.stringify(actor.getSnapshot().value);
  return { actor, clock, calls, value, finishClaim: () => finishClaim?.() };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('poller machine', () => {
  it('registers, claims at once, then waits for the poll interval', async () => {
    const h = harness();
    await flush();
    expect(h.value()).toBe('{"active":"claiming"}');
    h.finishClaim();
    await flush();
    expect(h.value()).toBe('{"active":"waiting"}');
    h.clock.increment(999);
    expect(h.calls.claim).toBe(1);
    h.clock.increment(1);
    expect(h.calls.claim).toBe(2);
  });

  it('a NOTIFY nudge claims without waiting for the poll', async () => {
    const h = harness();
    await flush();
    h.finishClaim();
    await flush();
    h.actor.send({ type: 'poller.nudge' });
    expect(h.calls.claim).toBe(2);
  });

  it('a nudge during a claim is not lost: another claim follows', async () => {
    const h = harness();
    await flush();
    h.actor.send({ type: 'poller.nudge' });
    h.finishClaim();
    await flush();
    expect(h.calls.claim).toBe(2);
    expect(h.value()).toBe('{"active":"claiming"}');
  });

  it('retries registration while the database is down', async () => {
    const h = harness({ registerFails: 2 });
    await flush();
    expect(h.value()).toBe('"registerBackoff"');
    expect(h.actor.getSnapshot().context.lastError).toBe('db down');
    h.clock.increment(2000);
    await flush();
    h.clock.increment(2000);
    await flush();
    expect(h.calls.register).toBe(3);
    expect(h.value()).toBe('{"active":"claiming"}');
  });

  it('a lost lease abandons the runs and registers anew', async () => {
    const h = harness();
    await flush();
    h.actor.send({ type: 'lease.lost' });
    await flush();
    expect(h.calls.abandon).toBe(1);
    expect(h.calls.register).toBe(2);
  });

  it('drain releases the runs and stops', async () => {
    const h = harness();
    await flush();
    h.actor.send({ type: 'engine.drain' });
    await flush();
    expect(h.calls.release).toBe(1);
    expect(h.actor.getSnapshot().status).toBe('done');
  });

  it('a second drain while draining does not release the runs again', async () => {
    const h = harness();
    await flush();
    h.actor.send({ type: 'engine.drain' });
    h.actor.send({ type: 'engine.drain' });
    await flush();
    expect(h.calls.release).toBe(1);
    expect(h.actor.getSnapshot().status).toBe('done');
  });
});
