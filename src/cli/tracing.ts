import { startFrameTracing, type FrameTracing } from '../observability/tracing.js';
import { TracingSettingsError } from '../observability/tracingSettings.js';
import type { Logger } from '../log.js';
import { z } from 'zod';
import { UsageError, help } from './args.js';

/** `--trace-sample-every N`: the head rate, over SIE_TRACE_SAMPLE_EVERY. */
export const traceSampleEverySchema = z.coerce.number().int().min(0).max(1_000_000);

/** Frame tracing for a command, from the environment (OTEL_*, SIE_TRACE_*); undefined = off. A variable
 *  that cannot be read is a usage error (exit 2) naming it. */
export function startTracingFromEnv(logger: Logger, o: { sampleEvery?: number } = {}, env: NodeJS.ProcessEnv = process.env): FrameTracing | undefined {
  try {
    const withFlag = o.sampleEvery === undefined ? env : { ...env, SIE_TRACE_SAMPLE_EVERY: String(o.sampleEvery) };
    return startFrameTracing({ env: withFlag, logger });
  } catch (err) {
    if (err instanceof TracingSettingsError) throw new UsageError(`environment: ${err.message}`);
    throw err;
  }
}

/** `--trace-sample-every`'s help (run, engine, serve): tracing itself is switched on by the environment. */
export const traceSampleEveryHelp = help(
  'tracing: keep 1 frame in N, plus every frame that emitted an event, was dropped or was slow (over SIE_TRACE_SLOW_MS); ' +
    'tracing is on when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_TRACES_EXPORTER is set',
  'N',
  'SIE_TRACE_SAMPLE_EVERY, else 10',
);
