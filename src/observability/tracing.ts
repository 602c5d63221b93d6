import { randomFillSync } from 'node:crypto';
import { NodeSDK, resources, tracing as sdkTrace } from '@opentelemetry/sdk-node';
import { DiagLogLevel, ROOT_CONTEXT, diag, trace, type Tracer } from '@opentelemetry/api';
import type { FrameRecord, FrameTraceContext } from '../frame.js';
import { frameOrigin, type FrameOrigin, type FrameOutput } from '../pipeline/frameTimings.js';
import { redactText } from '../redact.js';
import type { Logger } from '../log.js';
import { buildFrameSpans, headSampled, keepFrame, type DropPlace, type FrameEnd, type FrameSpans } from './tracingSpans.js';
import { tracingSettingsFromEnv, type TracingSettings } from './tracingSettings.js';

/** One run's side of frame tracing, called on the pipeline's thread: nothing here blocks. */
export interface RunTracer {
  /** At decode: the frame's trace ids (its spans get them at its end) and the head decision. */
  newFrame(frameId: number): FrameTraceContext;
  /** The frame's access unit went to the mount (or to a pushing ffmpeg #2): its trace ends there. */
  frameOut(out: FrameOutput): void;
  /** The frame was dropped at `place`: its trace ends with the wait there. */
  frameDropped(frame: FrameRecord | FrameOrigin, place: DropPlace, atMs: number): void;
}

/** The process's frame tracing: the OpenTelemetry SDK, started once, shared by every run. */
export interface FrameTracing {
  readonly settings: TracingSettings;
  forRun(run: { runId: string; clientId: string }): RunTracer;
  /** Frames that ended, and those whose trace was kept (exported). */
  readonly stats: { ended: number; kept: number };
  /** Exports what is still batched, then stops the SDK; once. */
  shutdown(): Promise<void>;
}

/**
 * The SDK makes a root span's ids with its IdGenerator; this one hands out the ids the frame got at decode
 * (FrameRecord.trace) for the one span started right after `next` is set, and random ones otherwise. So
 * events stored while the frame was in flight name the trace and span it will have.
 */
class FrameIdGenerator {
  next: FrameTraceContext | undefined;
  private readonly random = new sdkTrace.RandomIdGenerator();
  generateTraceId(): string {
    return this.next?.traceId ?? this.random.generateTraceId();
  }
  generateSpanId(): string {
    return this.next?.spanId ?? this.random.generateSpanId();
  }
}

/** 24 random bytes per frame (a trace id and a span id), drawn 1024 frames' worth at a time. */
const ID_BYTES = 24;
const idPool = Buffer.alloc(ID_BYTES * 1024);
let idAt = idPool.length;
function newIds(): { traceId: string; spanId: string } {
  if (idAt === idPool.length) {
    randomFillSync(idPool);
    idAt = 0;
  }
  const at = idAt;
  idAt += ID_BYTES;
  // An all-zero id is invalid in W3C trace context; 2^-64 odds, but then the SDK would drop the frame.
  idPool[at + 15]! |= 1;
  idPool[at + 23]! |= 1;
  return { traceId: idPool.toString('hex', at, at + 16), spanId: idPool.toString('hex', at + 16, at + 24) };
}

function emit(tracer: Tracer, ids: FrameIdGenerator, spans: FrameSpans): boolean {
  ids.next = spans.trace;
  let root;
  try {
    root = tracer.startSpan(spans.root.name, { startTime: spans.root.startMs, attributes: spans.root.attributes, root: true });
  } finally {
    ids.next = undefined;
  }
  const ctx = trace.setSpan(ROOT_CONTEXT, root);
  for (const c of spans.children) {
    const span = tracer.startSpan(c.name, { startTime: c.startMs, attributes: c.attributes }, ctx);
    for (const e of c.events ?? []) span.addEvent(e.name, e.attributes, e.atMs);
    span.end(c.endMs);
  }
  root.end(spans.root.endMs);
  return root.spanContext().traceId === spans.trace.traceId;
}

/**
 * Starts tracing when the environment asks for it (see tracingSettingsFromEnv), else returns undefined
 * and starts nothing. The exporter, its endpoint, protocol and headers, the batch processor's settings
 * (OTEL_BSP_*) and the service name are the SDK's own, from the standard OTEL_* variables. Not started:
 * metrics and logs (Prometheus is scraped, pino logs), instrumentations, propagators, and the process
 * resource detector (it would put the command line, camera URLs with their passwords, into every trace).
 */
export function startFrameTracing(o: { env: Readonly<Record<string, string | undefined>>; logger: Logger }): FrameTracing | undefined {
  const settings = tracingSettingsFromEnv(o.env);
  if (!settings) return undefined;
  const log = o.logger.child({ component: 'tracing' });
  // The SDK reports failed exports through diag; once in a while is enough (a collector that is down
  // would otherwise log every batch).
  let lastDiagAt = 0;
  const report = (level: 'warn' | 'error') => (message: string) => {
    const now = Date.now();
    if (now - lastDiagAt < 30_000) return;
    lastDiagAt = now;
    log[level]({ msg: redactText(message) }, 'opentelemetry');
  };
  if (!o.env.OTEL_LOG_LEVEL) {
    const nothing = () => undefined;
    diag.setLogger({ error: report('error'), warn: report('warn'), info: nothing, debug: nothing, verbose: nothing }, DiagLogLevel.WARN);
  }
  const ids = new FrameIdGenerator();
  const sdk = new NodeSDK({
    serviceName: o.env.OTEL_SERVICE_NAME ? undefined : 'sie',
    // Kept or not is decided at the frame's end (keepFrame): every span made is meant to be exported.
    sampler: new sdkTrace.AlwaysOnSampler(),
    idGenerator: ids,
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
    textMapPropagator: null,
    resourceDetectors: [resources.envDetector, resources.hostDetector],
  });
  sdk.start();
  const tracer = trace.getTracer('sie.frames');
  const stats = { ended: 0, kept: 0 };
  let warnedIds = false;
  let closing: Promise<void> | undefined;
  log.info({ sampleEvery: settings.sampleEvery, latencyThresholdMs: settings.latencyThresholdMs }, 'frame tracing on');
  return {
    settings,
    stats,
    forRun({ clientId }) {
      const finish = (end: FrameEnd) => {
        if (closing) return;
        stats.ended++;
        const kept = keepFrame(end, settings);
        if (!kept) return;
        const spans = buildFrameSpans(end, { clientId, kept });
        if (!spans) return;
        stats.kept++;
        if (!emit(tracer, ids, spans) && !warnedIds) {
          warnedIds = true;
          log.warn('a frame span did not get the trace id made at decode (another tracer provider is registered?): events will not point at their traces');
        }
      };
      return {
        newFrame: (frameId) => ({ ...newIds(), sampled: headSampled(frameId, settings.sampleEvery) }),
        frameOut: (out) => finish({ kind: 'out', out }),
        frameDropped: (frame, place, atMs) => {
          if (!frame.trace) return;
          const origin = 'pixels' in frame ? frameOrigin(frame) : frame;
          finish({ kind: 'dropped', origin, place, atMs });
        },
      };
    },
    shutdown() {
      closing ??= sdk.shutdown().then(
        () => log.info(stats, 'frame tracing stopped'),
        (err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'frame tracing: the last spans were not exported'),
      );
      return closing;
    },
  };
}
