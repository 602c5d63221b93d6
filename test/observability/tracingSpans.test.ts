import { describe, expect, it } from 'vitest';
import { buildFrameSpans, headSampled, keepFrame, type FrameEnd } from '../../src/observability/tracingSpans.js';
import { DEFAULT_LATENCY_THRESHOLD_MS, DEFAULT_SAMPLE_EVERY, TracingSettingsError, tracingSettingsFromEnv } from '../../src/observability/tracingSettings.js';
import type { FrameOrigin, FrameOutput } from '../../src/pipeline/frameTimings.js';
import type { StageTiming } from '../../src/frame.js';

/** The pure half of frame tracing: which frames are kept, and the spans a kept frame becomes. */

const T0 = 1_700_000_000_000;
const TRACE = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), sampled: false };

function stages(): StageTiming[] {
  return [
    { stage: 'inference', waitMs: 2, serviceMs: 20, startedAtMs: T0 + 2 },
    { stage: 'rules', waitMs: 0.5, serviceMs: 1, startedAtMs: T0 + 22.5 },
    { stage: 'drawing', waitMs: 0, serviceMs: 3, startedAtMs: T0 + 23.5 },
  ];
}

function origin(o: Partial<FrameOrigin> = {}): FrameOrigin {
  return { runId: 'run-1', frameId: 7, arrivedAtMs: T0, stages: stages(), ptsS: 0.7, configVersion: 2, detected: true, trace: TRACE, events: [], ...o };
}

function out(o: Partial<FrameOutput> = {}): FrameOutput {
  return { ...origin(), handedAtMs: T0 + 27, outputPtsS: 1.2, accessUnitAtMs: T0 + 31, sentAtMs: T0 + 31.2, pushed: false, ...o };
}

const rel = (x: number) => Math.round((x - T0) * 1000) / 1000;
const policy = { latencyThresholdMs: 100 };

describe('keepFrame: the tail decision at the frame end', () => {
  it('keeps a head-sampled frame, one with events, a slow one, a dropped one; not the others', () => {
    expect(keepFrame({ kind: 'out', out: out() }, policy)).toBeUndefined();
    expect(keepFrame({ kind: 'out', out: out({ trace: { ...TRACE, sampled: true } }) }, policy)).toBe('sampled');
    expect(keepFrame({ kind: 'out', out: out({ events: [{ id: 'e1', rule_id: 'line', type: 'cross' }] }) }, policy)).toBe('event');
    expect(keepFrame({ kind: 'out', out: out({ sentAtMs: T0 + 100.5 }) }, policy)).toBe('slow');
    expect(keepFrame({ kind: 'out', out: out({ sentAtMs: T0 + 99.5 }) }, policy)).toBeUndefined();
    expect(keepFrame({ kind: 'dropped', origin: origin(), place: 'rules', atMs: T0 + 30 }, policy)).toBe('dropped');
  });

  it('a frame without a trace (tracing off) is never kept', () => {
    expect(keepFrame({ kind: 'dropped', origin: origin({ trace: undefined }), place: 'rules', atMs: T0 }, policy)).toBeUndefined();
    expect(buildFrameSpans({ kind: 'out', out: out({ trace: undefined }) }, { clientId: 'c', kept: 'sampled' })).toBeUndefined();
  });

  it('head sampling is 1 frame in N by frame id; 0 samples none', () => {
    expect([...Array(30).keys()].filter((i) => headSampled(i, 10))).toEqual([0, 10, 20]);
    expect([0, 1, 2].every((i) => headSampled(i, 1))).toBe(true);
    expect([0, 1, 2].some((i) => headSampled(i, 0))).toBe(false);
  });
});

describe('buildFrameSpans', () => {
  it('a frame sent: the root from arrival to its packets sent, one child per stage, in time order, with their times', () => {
    const end: FrameEnd = { kind: 'out', out: out({ events: [{ id: 'e1', rule_id: 'line', type: 'cross' }] }) };
    const spans = buildFrameSpans(end, { clientId: 'acme', kept: 'event' })!;
    expect(spans.trace).toBe(TRACE);
    expect(spans.root).toMatchObject({ name: 'frame', startMs: T0, endMs: T0 + 31.2 });
    expect(spans.root.attributes).toEqual({
      'sie.run_id': 'run-1',
      'sie.client_id': 'acme',
      'sie.frame_id': 7,
      'sie.source_pts_s': 0.7,
      'sie.output_pts_s': 1.2,
      'sie.config_version': 2,
      'sie.detected': true,
      'sie.kept': 'event',
      'sie.latency_ms': 31.2,
      'sie.events': 1,
      'sie.pushed': false,
    });
    expect(spans.children.map((c) => [c.name, rel(c.startMs), rel(c.endMs)])).toEqual([
      ['decode_wait', 0, 2],
      ['inference', 2, 22],
      ['tracking_and_rules', 22.5, 23.5],
      ['drawing', 23.5, 26.5],
      ['output_wait', 26.5, 27],
      ['encode', 27, 31],
      ['send', 31, 31.2],
    ]);
    for (const c of spans.children) {
      expect(c.startMs, c.name).toBeGreaterThanOrEqual(spans.root.startMs);
      expect(c.endMs, c.name).toBeLessThanOrEqual(spans.root.endMs);
    }
    const rules = spans.children.find((c) => c.name === 'tracking_and_rules')!;
    expect(rules.attributes).toMatchObject({ 'sie.wait_ms': 0.5, 'sie.service_ms': 1, 'sie.events': 1 });
    expect(rules.events).toEqual([{ name: 'rule_event', atMs: T0 + 23.5, attributes: { 'sie.event_id': 'e1', 'sie.rule_id': 'line', 'sie.event_type': 'cross' } }]);
    expect(spans.children.find((c) => c.name === 'inference')!.attributes['sie.detected']).toBe(true);
  });

  it('a pushed frame ends when ffmpeg #2 took it: no encode or send span', () => {
    const spans = buildFrameSpans({ kind: 'out', out: out({ pushed: true, accessUnitAtMs: T0 + 27, sentAtMs: T0 + 27 }) }, { clientId: 'c', kept: 'sampled' })!;
    expect(spans.root.endMs).toBe(T0 + 27);
    expect(spans.children.map((c) => c.name)).toEqual(['decode_wait', 'inference', 'tracking_and_rules', 'drawing', 'output_wait']);
    expect(spans.root.attributes['sie.pushed']).toBe(true);
  });

  it('a dropped frame ends its trace with its wait in the queue that dropped it', () => {
    const dropped = buildFrameSpans({ kind: 'dropped', origin: origin({ stages: stages().slice(0, 1) }), place: 'rules', atMs: T0 + 40 }, { clientId: 'c', kept: 'dropped' })!;
    expect(dropped.root).toMatchObject({ startMs: T0, endMs: T0 + 40 });
    expect(dropped.root.attributes).toMatchObject({ 'sie.dropped': true, 'sie.dropped_before': 'rules' });
    expect(dropped.root.attributes['sie.output_pts_s']).toBeUndefined();
    expect(dropped.children.map((c) => [c.name, rel(c.startMs), rel(c.endMs)])).toEqual([
      ['decode_wait', 0, 2],
      ['inference', 2, 22],
      ['rules_wait', 22, 40],
    ]);
    const early = buildFrameSpans({ kind: 'dropped', origin: origin({ stages: [] }), place: 'inference', atMs: T0 + 35 }, { clientId: 'c', kept: 'dropped' })!;
    expect(early.children.map((c) => [c.name, rel(c.startMs), rel(c.endMs)])).toEqual([['decode_wait', 0, 35]]);
    const atEncoder = buildFrameSpans({ kind: 'dropped', origin: origin(), place: 'encoder', atMs: T0 + 50 }, { clientId: 'c', kept: 'dropped' })!;
    expect(atEncoder.children.at(-1)).toMatchObject({ name: 'encoder_wait', startMs: T0 + 26.5, endMs: T0 + 50 });
  });
});

describe('tracingSettingsFromEnv', () => {
  it('off when nothing names an exporter or an endpoint, when disabled, or with the exporter none', () => {
    expect(tracingSettingsFromEnv({})).toBeUndefined();
    expect(tracingSettingsFromEnv({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER_ARG: '0.5' })).toBeUndefined();
    expect(tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
  });

  it('on with an endpoint or an exporter; the head rate from SIE_TRACE_SAMPLE_EVERY, else the standard sampler variables', () => {
    expect(tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toEqual({ sampleEvery: DEFAULT_SAMPLE_EVERY, latencyThresholdMs: DEFAULT_LATENCY_THRESHOLD_MS });
    expect(tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces', SIE_TRACE_SAMPLE_EVERY: '25', SIE_TRACE_SLOW_MS: '80' })).toEqual({ sampleEvery: 25, latencyThresholdMs: 80 });
    const rate = (v: Record<string, string>) => tracingSettingsFromEnv({ OTEL_TRACES_EXPORTER: 'console', ...v })!.sampleEvery;
    expect(rate({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.04' })).toBe(25);
    expect(rate({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' })).toBe(0);
    expect(rate({ OTEL_TRACES_SAMPLER: 'always_on' })).toBe(1);
    expect(rate({ OTEL_TRACES_SAMPLER: 'always_off' })).toBe(0);
    expect(rate({ OTEL_TRACES_SAMPLER: 'always_on', SIE_TRACE_SAMPLE_EVERY: '3' })).toBe(3);
  });

  it('a value that cannot be read is refused, naming the variable', () => {
    expect(() => tracingSettingsFromEnv({ OTEL_TRACES_EXPORTER: 'otlp', SIE_TRACE_SAMPLE_EVERY: 'often' })).toThrow(TracingSettingsError);
    expect(() => tracingSettingsFromEnv({ OTEL_TRACES_EXPORTER: 'otlp', SIE_TRACE_SAMPLE_EVERY: 'often' })).toThrow(/SIE_TRACE_SAMPLE_EVERY/);
    expect(() => tracingSettingsFromEnv({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
  });
});
