import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Engine } from '../../src/engine/engine.js';
import { startFrameTracing, type FrameTracing } from '../../src/observability/tracing.js';
import { silentLogger } from '../../src/log.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startEngine, stopAllEngines } from '../helpers/engineHarness.js';
import { insertModelAndConfig, insertRun } from '../helpers/engineFixtures.js';
import { until } from '../helpers/processes.js';
import { PLAZA } from '../helpers/media.js';
import { startOtlpReceiver } from '../helpers/otlpReceiver.js';

/**
 * An engine with frame tracing: a run claimed from the database, its events stored with the trace and
 * span of their frame, and those traces at an OTLP receiver, each the frame's whole trace.
 */
let db: TestDatabase;
let engine: Engine;
let tracing: FrameTracing;
let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
const saved = { ...process.env };

beforeAll(async () => {
  db = await createTestDatabase();
  receiver = await startOtlpReceiver();
  Object.assign(process.env, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '200' });
  tracing = startFrameTracing({ env: { ...process.env, SIE_TRACE_SAMPLE_EVERY: '0' }, logger: silentLogger })!;
  ({ engine } = await startEngine(db, { mediaRoot: dirname(PLAZA), maxRuns: 1, tracing }));
});

afterAll(async () => {
  await stopAllEngines();
  await tracing?.shutdown();
  await receiver?.close();
  await db?.drop();
  process.env = saved;
});

describe('an engine with tracing on', () => {
  it("stores each event with its frame's trace_id and span_id, and exports that frame's trace whole", async () => {
    const fixture = JSON.parse(readFileSync('test/fixtures/plaza-rules.json', 'utf8')) as { inference: object; rules: object[] };
    const { configId } = await insertModelAndConfig(db.pool, 'acme', { inference: { ...fixture.inference, every_nth_frame: 1 }, rules: fixture.rules });
    const id = await insertRun(db.pool, configId, `file://${PLAZA}`);
    type Row = { id: string; frame_id: string; extra: { confirmed_frame_id?: number }; trace_id: string | null; span_id: string | null };
    let rows: Row[] = [];
    await until(async () => {
      await engine.events.flush();
      rows = (await db.pool.query<Row>('SELECT id, frame_id::text, extra, trace_id, span_id FROM events WHERE run_id = $1 ORDER BY seq', [id])).rows;
      return rows.length >= 2 && rows.slice(0, 2).every((r) => receiver.spans.some((s) => s.traceId === r.trace_id && s.name === 'frame'));
    }, 90_000, 'two events and their traces');
    for (const r of rows.slice(0, 2)) {
      expect(r.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(r.span_id).toMatch(/^[0-9a-f]{16}$/);
      const spans = receiver.spans.filter((s) => s.traceId === r.trace_id);
      const root = spans.find((s) => s.name === 'frame')!;
      expect(root.spanId).toBe(r.span_id);
      // The frame that emitted the event: a debounced crossing is dated earlier, where it crossed.
      const emittedOn = r.extra.confirmed_frame_id ?? Number(r.frame_id);
      expect(root.attributes).toMatchObject({ 'sie.run_id': id, 'sie.client_id': 'acme', 'sie.frame_id': emittedOn, 'sie.kept': 'event' });
      expect(root.resource['service.name']).toBe('sie');
      expect(spans.filter((s) => s !== root).every((s) => s.parentSpanId === root.spanId)).toBe(true);
      expect(spans.find((s) => s.name === 'tracking_and_rules')!.events.map((e) => e.attributes['sie.event_id'])).toContain(r.id);
    }
    // Head sampling off (SIE_TRACE_SAMPLE_EVERY=0): only frames the tail rules kept were exported.
    const roots = receiver.spans.filter((s) => s.name === 'frame');
    expect(roots.every((s) => s.attributes['sie.kept'] !== 'sampled')).toBe(true);
  }, 120_000);
});
