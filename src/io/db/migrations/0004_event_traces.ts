/**
 * 0004: each event names the trace of the frame it happened on (OpenTelemetry, src/observability/tracing.ts):
 * 32 and 16 hex digits, NULL when tracing was off. The frame's trace is always kept when it emitted an
 * event, so the ids lead to the frame's spans in Jaeger (or any OTLP backend).
 */
export const sql = /* sql */ `
ALTER TABLE events ADD COLUMN trace_id text NULL, ADD COLUMN span_id text NULL;
`;
