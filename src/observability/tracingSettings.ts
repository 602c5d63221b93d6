import { z } from 'zod';

/**
 * Whether frames are traced, and which are kept, from the environment: the standard OTEL_* variables
 * (read again by the SDK itself for the exporter, its endpoint, protocol, headers and the service name)
 * plus SIE_TRACE_* for what only sie knows. Pure: the caller hands in the environment.
 */
export interface TracingSettings {
  /** Head sampling: 1 frame in this many (by frame id); 0 = none, only the tail rules keep frames. */
  readonly sampleEvery: number;
  /** Frames slower than this, arrival → last RTP packet, are kept whatever the head sampling said (ms). */
  readonly latencyThresholdMs: number;
}

/**
 * 1 frame in 10: at 25 fps, 2.5 traces a second per run. Measured here (test/observability/tracing.test.ts):
 * a kept frame costs ~0.2 ms on the pipeline's thread (8 spans built and handed to the batch processor;
 * their export is batched off the frame path), an unkept one ~2 µs (its ids and the decision). Against the
 * 33–41 ms of CPU a frame costs end to end (README, sie bench) that is ~0.06% at this default, and ~0.5%
 * even with every frame kept: the default bounds the volume a backend receives more than the CPU.
 */
export const DEFAULT_SAMPLE_EVERY = 10;
/** Above the p99 of a loaded engine (README: 113 ms at capacity, 720p25): only the frames that stand out. */
export const DEFAULT_LATENCY_THRESHOLD_MS = 250;

/** A tracing variable that cannot be read: the command refuses to start (the CLI reports it as a usage error). */
export class TracingSettingsError extends Error {
  override name = 'TracingSettingsError';
}

const positiveInt = z.coerce.number().int().min(0).max(1_000_000);
const ratio = z.coerce.number().min(0).max(1);

function parse<T>(schema: z.ZodType<T>, name: string, value: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new TracingSettingsError(`${name}: ${r.error.issues[0]?.message ?? 'invalid'} (got ${JSON.stringify(value)})`);
  return r.data;
}

const set = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

/**
 * Undefined when tracing is off: no exporter is named (OTEL_TRACES_EXPORTER) and no OTLP endpoint is set
 * (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), or OTEL_SDK_DISABLED=true, or
 * OTEL_TRACES_EXPORTER=none. Then nothing is started and frames carry no trace: it costs nothing.
 *
 * The head rate: SIE_TRACE_SAMPLE_EVERY=N if set, else the standard sampler variables read as a rate
 * (always_on = every frame, always_off = none, [parentbased_]traceidratio with OTEL_TRACES_SAMPLER_ARG=r
 * = 1 in round(1/r)), else DEFAULT_SAMPLE_EVERY. The SDK's own sampler is not used: it would decide at
 * the start of each span, where sie decides at the frame's end (keepFrame).
 */
export function tracingSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): TracingSettings | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (exporters.length === 1 && exporters[0] === 'none') return undefined;
  if (exporters.length === 0 && !set(env.OTEL_EXPORTER_OTLP_ENDPOINT) && !set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)) return undefined;
  return {
    sampleEvery: set(env.SIE_TRACE_SAMPLE_EVERY) ? parse(positiveInt, 'SIE_TRACE_SAMPLE_EVERY', env.SIE_TRACE_SAMPLE_EVERY) : sampleEveryFromSampler(env),
    latencyThresholdMs: set(env.SIE_TRACE_SLOW_MS)
      ? parse(z.coerce.number().positive(), 'SIE_TRACE_SLOW_MS', env.SIE_TRACE_SLOW_MS)
      : DEFAULT_LATENCY_THRESHOLD_MS,
  };
}

function sampleEveryFromSampler(env: Readonly<Record<string, string | undefined>>): number {
  const sampler = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase();
  if (sampler === 'always_on' || sampler === 'parentbased_always_on') return 1;
  if (sampler === 'always_off' || sampler === 'parentbased_always_off') return 0;
  if ((sampler === 'traceidratio' || sampler === 'parentbased_traceidratio') && set(env.OTEL_TRACES_SAMPLER_ARG)) {
    const r = parse(ratio, 'OTEL_TRACES_SAMPLER_ARG', env.OTEL_TRACES_SAMPLER_ARG);
    return r === 0 ? 0 : Math.max(1, Math.round(1 / r));
  }
  return DEFAULT_SAMPLE_EVERY;
}
