import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, killAll, start, until } from '../helpers/processes.js';
import { LABELS, MODEL, PLAZA, SIE, runSie } from '../helpers/media.js';
import { startOtlpReceiver, type ReceivedSpan } from '../helpers/otlpReceiver.js';
import type { RuleEvent } from '../../src/rules/index.js';

/**
 * `sie run` with tracing on (OTEL_EXPORTER_OTLP_ENDPOINT): the plaza clip with its rules through the real
 * pipeline, ffmpeg #2 and the embedded mount, exporting OTLP/HTTP JSON to a receiver started here.
 */

let dir = '';
let receiver: Awaited<ReturnType<typeof startOtlpReceiver>> | undefined;
afterEach(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
  await receiver?.close();
  receiver = undefined;
});
afterAll(killAll);

const STAGE_SPANS = ['decode_wait', 'inference', 'tracking_and_rules', 'drawing', 'output_wait', 'encode', 'send'];

function traces(spans: ReceivedSpan[]): Map<string, ReceivedSpan[]> {
  const by = new Map<string, ReceivedSpan[]>();
  for (const s of spans) by.set(s.traceId, [...(by.get(s.traceId) ?? []), s]);
  return by;
}

/** One frame's trace, whole: one root, every other span its child, the stages in order within it. */
function expectWholeFrame(spans: ReceivedSpan[], at: string): ReceivedSpan {
  const roots = spans.filter((s) => s.parentSpanId === undefined);
  expect(roots.map((r) => r.name), at).toEqual(['frame']);
  const root = roots[0]!;
  const children = spans.filter((s) => s !== root).sort((a, b) => a.startMs - b.startMs);
  expect(children.map((c) => c.name), at).toEqual(STAGE_SPANS);
  for (const c of children) {
    expect(c.parentSpanId, `${at} ${c.name}`).toBe(root.spanId);
    // Microseconds: the exporter rounds times to its nanoseconds from a float.
    expect(c.startMs, `${at} ${c.name}`).toBeGreaterThanOrEqual(root.startMs - 0.01);
    expect(c.endMs, `${at} ${c.name}`).toBeLessThanOrEqual(root.endMs + 0.01);
    expect(c.endMs, `${at} ${c.name}`).toBeGreaterThanOrEqual(c.startMs);
  }
  for (let i = 1; i < children.length; i++) expect(children[i]!.startMs, at).toBeGreaterThanOrEqual(children[i - 1]!.endMs - 0.01);
  return root;
}

describe('sie run with OTEL_EXPORTER_OTLP_ENDPOINT: a trace per frame', () => {
  it('exports kept frames whole (root, seven stage spans, attributes), and every event names a kept trace', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sie-tracing-e2e-'));
    receiver = await startOtlpReceiver();
    const eventsPath = join(dir, 'events.jsonl');
    const run = start(
      SIE,
      ['run', PLAZA, '--model', MODEL, '--labels', LABELS, '--port', String(await freePort()), '--inference-workers', '1',
        '--config', resolve('test/fixtures/plaza-rules.json'), '--events', eventsPath],
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '200',
        SIE_TRACE_SAMPLE_EVERY: '5',
      },
    );
    await run.waitFor(/^output: (rtsp:\/\/\S+)$/m, 20_000);
    const events = () => (existsSync(eventsPath) ? readFileSync(eventsPath, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as RuleEvent) : []);
    // The first few events with a trace, once their frames' traces have arrived: a frame still in the
    // pipeline when the run stops is not exported (its event may be written already), so stop only then.
    const firstTraced = () => events().filter((e) => e.trace_id).slice(0, 5);
    const arrived = (e: RuleEvent) => receiver!.spans.some((s) => s.name === 'frame' && s.traceId === e.trace_id);
    await until(
      () => firstTraced().length > 0 && firstTraced().every(arrived) && receiver!.spans.filter((s) => s.name === 'frame').length >= 10,
      90_000,
      'an event whose frame trace arrived, and ten frame traces',
    );
    const checked = firstTraced();
    run.child.kill('SIGINT');
    expect((await run.exited).code).toBe(0);

    const spans = receiver.spans;
    const byTrace = traces(spans);
    const roots = spans.filter((s) => s.name === 'frame');
    expect(roots.length).toBeGreaterThanOrEqual(10);
    // Not every frame: 1 in 5 by head sampling, plus those the tail rules kept.
    const ids = roots.map((r) => Number(r.attributes['sie.frame_id']));
    expect(new Set(ids).size).toBe(ids.length);
    const sampled = roots.filter((r) => r.attributes['sie.kept'] === 'sampled');
    expect(sampled.length).toBeGreaterThan(0);
    for (const r of sampled) expect(Number(r.attributes['sie.frame_id']) % 5, `frame ${r.attributes['sie.frame_id']}`).toBe(0);

    const root = expectWholeFrame(byTrace.get(sampled[0]!.traceId)!, 'a sampled frame');
    expect(root.resource['service.name']).toBe('sie');
    // The process resource detector is off: the command line (camera URLs and their passwords) is in no trace.
    expect(Object.keys(root.resource).some((k) => k.startsWith('process.command'))).toBe(false);
    const runId = root.attributes['sie.run_id'];
    expect(typeof runId).toBe('string');
    expect(root.attributes).toMatchObject({ 'sie.client_id': 'campus', 'sie.config_version': 0, 'sie.detected': true, 'sie.pushed': false });
    expect(typeof root.attributes['sie.source_pts_s']).toBe('number');
    expect(typeof root.attributes['sie.output_pts_s']).toBe('number');
    expect(root.attributes['sie.latency_ms']).toBeCloseTo(root.endMs - root.startMs, 1);

    // Every event of a frame names its trace, kept because of it, and its root span.
    expect(checked.length).toBeGreaterThan(0);
    for (const e of checked) {
      const frame = byTrace.get(e.trace_id!);
      expect(frame, `the trace of event ${e.id}`).toBeDefined();
      const r = expectWholeFrame(frame!, `event ${e.id}'s frame`);
      expect(r.spanId).toBe(e.span_id);
      // The frame that emitted it: a debounced crossing is dated earlier (frame_id), where it crossed.
      expect(r.attributes['sie.frame_id']).toBe(e.extra.confirmed_frame_id ?? e.frame_id);
      expect(r.attributes['sie.run_id']).toBe(e.run_id);
      expect(r.attributes['sie.kept']).toBe('event');
      const rules = frame!.find((s) => s.name === 'tracking_and_rules')!;
      expect(rules.events.map((x) => x.attributes['sie.event_id'])).toContain(e.id);
    }
    process.stdout.write(`one frame's trace: ${describeTrace(byTrace.get(sampled.at(-1)!.traceId)!)}\n`);
  }, 150_000);
});

describe('sie run: tracing settings that cannot be read', () => {
  it('a bad --trace-sample-every or SIE_TRACE_SAMPLE_EVERY is a usage error (exit 2) naming it', async () => {
    const base = ['run', PLAZA, '--model', MODEL, '--labels', LABELS];
    const flag = await runSie([...base, '--trace-sample-every', 'often']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--trace-sample-every');
    const env = await runSie(base, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', SIE_TRACE_SAMPLE_EVERY: '-3' });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('SIE_TRACE_SAMPLE_EVERY');
  });
});

function describeTrace(spans: ReceivedSpan[]): string {
  const root = spans.find((s) => !s.parentSpanId)!;
  const ms = (x: number) => x.toFixed(2);
  return [`frame ${root.attributes['sie.frame_id']} ${ms(root.endMs - root.startMs)} ms`, ...spans.filter((s) => s !== root).sort((a, b) => a.startMs - b.startMs)
    .map((s) => `${s.name} +${ms(s.startMs - root.startMs)} ${ms(s.endMs - s.startMs)} ms`)].join('; ');
}
