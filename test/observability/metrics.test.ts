import { describe, expect, it } from 'vitest';
import { SieMetrics } from '../../src/observability/metrics.js';
import { createRunStore } from '../../src/pipeline/runStore.js';
import { configBodySchema } from '../../src/config/body.js';
import type { FlowReading } from '../../src/pipeline/flow.js';
import { parseOpenMetrics, samplesOf } from '../helpers/openMetrics.js';

/** The metrics module on its own: a real run store's counters, prom-client's output, our parser. */
function meteredStore(metrics: SieMetrics, runId = 'r1') {
  const store = createRunStore({ config: configBodySchema.parse({}) });
  let flow: FlowReading = { state: 'flowing', blockedAt: null };
  const meter = metrics.trackRun({
    runId,
    clientId: 'acme',
    stats: () => store.getSnapshot().context.stats,
    output: () => ({ readers: 2, bytesSent: 12345 }),
    flow: () => flow,
  });
  return { store, meter, setFlow: (f: FlowReading) => (flow = f) };
}

const timing = (over: object = {}) => ({
  runId: 'r1',
  frameId: 7,
  arrivedAtMs: 1000,
  stages: [
    { stage: 'inference' as const, waitMs: 1, serviceMs: 30, startedAtMs: 1001 },
    { stage: 'rules' as const, waitMs: 0.1, serviceMs: 0.4, startedAtMs: 1031 },
    { stage: 'drawing' as const, waitMs: 0.2, serviceMs: 5, startedAtMs: 1032 },
  ],
  handedAtMs: 1038,
  sentAtMs: 1042,
  ...over,
});

describe('SieMetrics', () => {
  it('reads run counters from the store at scrape time, per stage for drops, and parses as strict OpenMetrics', async () => {
    const metrics = new SieMetrics({ defaultMetrics: false });
    const { store, meter } = meteredStore(metrics);
    for (let i = 0; i < 5; i++) store.trigger.frameDecoded({ ptsS: i / 10, atMs: 1000 + i });
    store.trigger.frameDropped({ before: 'inference' });
    store.trigger.outputCounted({ count: 'droppedEncoderBusy' });
    store.trigger.outputCounted({ count: 'framesRepeated' });
    meter.frameSent(timing());
    const text = await metrics.render();
    expect(metrics.contentType).toMatch(/^application\/openmetrics-text/);
    const f = parseOpenMetrics(text);
    const run = { run_id: 'r1', client_id: 'acme' };
    expect(f.get('sie_run_frames_in')?.type).toBe('counter');
    expect(samplesOf(f, 'sie_run_frames_in', 'sie_run_frames_in_total', run)[0]?.value).toBe(5);
    expect(samplesOf(f, 'sie_run_frames_dropped', 'sie_run_frames_dropped_total', { ...run, stage: 'inference' })[0]?.value).toBe(1);
    expect(samplesOf(f, 'sie_run_frames_dropped', 'sie_run_frames_dropped_total', { ...run, stage: 'encoder' })[0]?.value).toBe(1);
    expect(samplesOf(f, 'sie_run_frames_repeated', 'sie_run_frames_repeated_total', run)[0]?.value).toBe(1);
    expect(samplesOf(f, 'sie_run_readers', 'sie_run_readers', run)[0]?.value).toBe(2);
    expect(samplesOf(f, 'sie_run_sent_bytes', 'sie_run_sent_bytes_total', run)[0]?.value).toBe(12345);
    expect(samplesOf(f, 'sie_run_flow_state', 'sie_run_flow_state', { ...run, state: 'flowing' })[0]?.value).toBe(1);
    expect(samplesOf(f, 'sie_run_flow_state', 'sie_run_flow_state', { ...run, state: 'blocked' })[0]?.value).toBe(0);
    expect(samplesOf(f, 'sie_run_latency_seconds', 'sie_run_latency_seconds_count', run)[0]?.value).toBe(1);
    expect(samplesOf(f, 'sie_run_latency_seconds', 'sie_run_latency_seconds_sum', run)[0]?.value).toBeCloseTo(0.042, 6);
    expect(samplesOf(f, 'sie_run_stage_service_seconds', 'sie_run_stage_service_seconds_sum', { ...run, stage: 'inference' })[0]?.value).toBeCloseTo(0.03, 6);
    // No frame id anywhere in a label.
    for (const fam of f.values()) for (const s of fam.samples) expect(Object.keys(s.labels)).not.toContain('frame_id');
  });

  it('a run tracked again before its older execution is removed keeps its series (re-claimed by this engine)', async () => {
    const metrics = new SieMetrics({ defaultMetrics: false });
    const older = meteredStore(metrics);
    const newer = meteredStore(metrics);
    newer.meter.frameSent(timing());
    // The older execution finishes tearing down after the newer one has sent a frame.
    older.meter.remove();
    const f = parseOpenMetrics(await metrics.render());
    const run = { run_id: 'r1', client_id: 'acme' };
    expect(samplesOf(f, 'sie_run_latency_seconds', 'sie_run_latency_seconds_count', run)[0]?.value).toBe(1);
    expect(samplesOf(f, 'sie_run_frames_in', 'sie_run_frames_in_total', run)).toHaveLength(1);
    newer.meter.remove();
    const g = parseOpenMetrics(await metrics.render());
    expect(samplesOf(g, 'sie_run_latency_seconds', 'sie_run_latency_seconds_count', run)).toEqual([]);
  });

  it('a traced frame leaves an exemplar with its trace id on the buckets it fell in', async () => {
    const metrics = new SieMetrics({ defaultMetrics: false });
    const { meter } = meteredStore(metrics);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    meter.frameSent(timing({ trace: { traceId, spanId: '00f067aa0ba902b7', sampled: true } }));
    meter.frameSent(timing({ frameId: 8, trace: { traceId: 'ffffffffffffffffffffffffffffffff', spanId: '00f067aa0ba902b7', sampled: false } }));
    const f = parseOpenMetrics(await metrics.render());
    const withExemplar = samplesOf(f, 'sie_run_latency_seconds', 'sie_run_latency_seconds_bucket').filter((s) => s.exemplar);
    expect(withExemplar).toHaveLength(1);
    expect(withExemplar[0]!.exemplar!.labels).toEqual({ trace_id: traceId });
    expect(withExemplar[0]!.exemplar!.value).toBeCloseTo(0.042, 6);
    expect(withExemplar[0]!.labels.le).toBe('0.05');
    const stageEx = samplesOf(f, 'sie_run_stage_service_seconds', 'sie_run_stage_service_seconds_bucket', { stage: 'inference' }).filter((s) => s.exemplar);
    expect(stageEx.map((s) => s.exemplar!.labels.trace_id)).toEqual([traceId]);
    // Both frames counted; only the sampled one is an exemplar.
    expect(samplesOf(f, 'sie_run_latency_seconds', 'sie_run_latency_seconds_count')[0]?.value).toBe(2);
  });

  it('removes every series of a run when it ends', async () => {
    const metrics = new SieMetrics({ defaultMetrics: false });
    const a = meteredStore(metrics, 'r1');
    meteredStore(metrics, 'r2');
    a.meter.frameSent(timing());
    a.meter.remove();
    const f = parseOpenMetrics(await metrics.render());
    for (const fam of f.values()) for (const s of fam.samples) expect(s.labels.run_id).not.toBe('r1');
    expect(samplesOf(f, 'sie_run_frames_in', 'sie_run_frames_in_total', { run_id: 'r2' })).toHaveLength(1);
  });

  it('engine families: runs held, capacity, claims, lease renewal; a backlog the database cannot give is left out', async () => {
    const metrics = new SieMetrics({ defaultMetrics: false });
    let backlogFails = false;
    metrics.setEngine({
      engineId: 'e1',
      capacity: 4,
      runsHeld: () => 1,
      claims: () => 3,
      leaseHeld: () => true,
      eventBacklog: async () => {
        if (backlogFails) throw new Error('connection refused');
        return { webhook: 5 };
      },
    });
    metrics.observeLeaseRenewal(0.004);
    let f = parseOpenMetrics(await metrics.render());
    expect(samplesOf(f, 'sie_engine_runs', 'sie_engine_runs')[0]?.value).toBe(1);
    expect(samplesOf(f, 'sie_engine_capacity_runs', 'sie_engine_capacity_runs')[0]?.value).toBe(4);
    expect(samplesOf(f, 'sie_engine_claims', 'sie_engine_claims_total')[0]?.value).toBe(3);
    expect(samplesOf(f, 'sie_engine_lease_renewal_seconds', 'sie_engine_lease_renewal_seconds_count')[0]?.value).toBe(1);
    expect(samplesOf(f, 'sie_engine_event_backlog', 'sie_engine_event_backlog', { sink: 'webhook' })[0]?.value).toBe(5);
    backlogFails = true;
    f = parseOpenMetrics(await metrics.render());
    expect(samplesOf(f, 'sie_engine_event_backlog', 'sie_engine_event_backlog')).toHaveLength(0);
  });
});

describe('the OpenMetrics test parser', () => {
  it('refuses what the format does not allow', () => {
    const ok = '# TYPE a counter\na_total 1\n# EOF\n';
    expect(parseOpenMetrics(ok).get('a')?.samples[0]?.value).toBe(1);
    expect(() => parseOpenMetrics('# TYPE a counter\na_total 1\n')).toThrow(/EOF/);
    expect(() => parseOpenMetrics('# TYPE a counter\nb_total 1\n# EOF\n')).toThrow(/no declared family/);
    expect(() => parseOpenMetrics('# TYPE a gauge\na{x="1} 1\n# EOF\n')).toThrow(/unterminated/);
    expect(() => parseOpenMetrics('# TYPE a gauge\na one\n# EOF\n')).toThrow(/not a number/);
    expect(() => parseOpenMetrics('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 1\n# EOF\n')).toThrow(/fall/);
    expect(() => parseOpenMetrics('# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_count 3\nh_sum 1\n# EOF\n')).toThrow(/count/);
    expect(() => parseOpenMetrics('# TYPE a gauge\na 1 # {t="x"} 1\n# EOF\n')).toThrow(/exemplar/);
  });
});
