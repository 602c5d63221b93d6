import { describe, expect, it } from 'vitest';
import { FlowMonitor, describeFlow, type FlowInput } from '../../src/pipeline/flow.js';
import { createRunStore, type RunStats } from '../../src/pipeline/runStore.js';
import { configBodySchema } from '../../src/config/body.js';
import { engineReadiness, engineStartup, failedChecks } from '../../src/observability/health.js';

/** The stalled-vs-blocked rule on a real run store's counters (pure logic: no I/O in it). */
function run() {
  const store = createRunStore({ config: configBodySchema.parse({}), startedAtMs: 0 });
  const monitor = new FlowMonitor();
  let t = 0;
  const decode = (n: number) => {
    for (let i = 0; i < n; i++) store.trigger.frameDecoded({ ptsS: t / 1000, atMs: t });
  };
  const sample = (runState = 'running', nowMs = t): ReturnType<FlowMonitor['sample']> => {
    const { stats, source } = store.getSnapshot().context;
    const input: FlowInput = { runState, stats: stats as RunStats, fps: 25, lastArrivalMs: source.last?.atMs, nowMs };
    return monitor.sample(input);
  };
  return { store, decode, sample, advance: (ms: number) => (t += ms) };
}

describe('flow: stalled vs blocked', () => {
  it('no reading before the first frame; flowing while frames arrive and few are lost', () => {
    const r = run();
    expect(r.sample('connecting')).toEqual({ state: null, blockedAt: null });
    r.decode(25);
    expect(r.sample().state).toBe('flowing');
    r.advance(1000);
    r.decode(25);
    r.store.trigger.frameDropped({ before: 'inference' }); // one jitter drop in 25: not blocked
    expect(r.sample()).toEqual({ state: 'flowing', blockedAt: null });
  });

  it('stalled: nothing arrived for longer than max(1 s, 3 periods), or the run is retrying', () => {
    const r = run();
    r.decode(25);
    r.sample();
    r.advance(900);
    expect(r.sample().state).toBe('flowing');
    r.advance(200);
    expect(r.sample()).toEqual({ state: 'stalled', blockedAt: null });
    expect(r.sample('retrying').state).toBe('stalled');
    expect(r.sample('connecting').state).toBe('stalled');
  });

  it('blocked: frames arrive but ≥10% are lost downstream; blockedAt names where most were', () => {
    const r = run();
    r.decode(25);
    r.sample();
    r.advance(1000);
    r.decode(25);
    for (let i = 0; i < 2; i++) r.store.trigger.frameDropped({ before: 'drawing' });
    for (let i = 0; i < 3; i++) r.store.trigger.outputCounted({ count: 'droppedEncoderBusy' });
    const b = r.sample();
    expect(b).toEqual({ state: 'blocked', blockedAt: 'encoder' });
    expect(describeFlow(b)).toBe('blocked(encoder)');
    // The next window without losses: flowing again.
    r.advance(1000);
    r.decode(25);
    expect(r.sample().state).toBe('flowing');
  });

  it('stopping or ended: no reading', () => {
    const r = run();
    r.decode(5);
    expect(r.sample('stopping').state).toBeNull();
    expect(describeFlow(r.sample('completed'))).toBe('-');
  });
});

describe('engine probe checks', () => {
  it('readiness names a lease not held and a drain; startup waits for registration and model loads', () => {
    const ok = { registered: true, leaseHeld: true, draining: false, runsLoading: 0 };
    expect(failedChecks(engineReadiness(ok))).toBeUndefined();
    expect(failedChecks(engineReadiness({ ...ok, leaseHeld: false }))).toBe('lease: not renewed within its TTL');
    expect(failedChecks(engineReadiness({ ...ok, draining: true }))).toBe('draining: engine is draining (shutting down)');
    expect(failedChecks(engineStartup({ ...ok, registered: false, leaseHeld: false }))).toBe('registered: engine not registered yet');
    expect(failedChecks(engineStartup({ ...ok, runsLoading: 2 }))).toBe('models: 2 run(s) loading their model');
  });
});
