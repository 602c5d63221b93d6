import { describe, expect, it } from 'vitest';
import { startCamera } from '../helpers/cameras.js';
import type { TestDatabase } from '../helpers/db.js';
import { useEngineDatabase } from '../helpers/engineSuite.js';
import { MODELS_DIR, insertRun, waitForRun } from '../helpers/engineFixtures.js';
import { freePort, runToEnd, sleep, start, until } from '../helpers/processes.js';
import { SIE } from '../helpers/media.js';
import { parseOpenMetrics, samplesOf, type Family } from '../helpers/openMetrics.js';
import { buildApi } from '../../src/io/http/app.js';
import { SieMetrics } from '../../src/observability/metrics.js';

/**
 * `sie engine --metrics-port` with a real camera, a real run and a real RTSP reader: /metrics, parsed by
 * our own strict OpenMetrics parser, has every family the issue names with sane values; the run's series
 * go when it ends. The API's /metrics counts runs by state and its requests.
 */

let db: TestDatabase;
let configId: string;
useEngineDatabase((f) => ({ db, configId } = f));

async function scrape(url: string): Promise<Map<string, Family>> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
  return parseOpenMetrics(await res.text());
}

const one = (f: Map<string, Family>, family: string, sample: string, labels: Record<string, string> = {}) => {
  const s = samplesOf(f, family, sample, labels);
  expect(s, `${sample}${JSON.stringify(labels)}`).toHaveLength(1);
  return s[0]!.value;
};

describe('metrics of a live run', () => {
  it('the engine serves every family with sane values after a short run, and drops the run’s series when it ends', async () => {
    const camPort = await freePort();
    await startCamera(camPort);
    const metricsPort = await freePort();
    const engine = start(
      SIE,
      ['engine', '--metrics-port', String(metricsPort), '--metrics-host', '127.0.0.1', '--rtsp-host', '127.0.0.1', '--rtsp-port', String(await freePort()),
        '--poll-interval', '0.5', '--lease-ttl', '3', '--inference-workers', '1'],
      { SIE_DATABASE_URL: db.url, SIE_DATA_DIR: MODELS_DIR },
    );
    await engine.waitFor(/^engine: \S+ .*metrics=http:\/\/127\.0\.0\.1:\d+\/metrics/m, 30_000);
    const base = `http://127.0.0.1:${metricsPort}`;
    await until(async () => (await fetch(`${base}/startupz`)).status === 200, 15_000, 'engine startup');
    expect((await fetch(`${base}/readyz`)).status).toBe(200);

    const id = await insertRun(db.pool, configId, `rtsp://127.0.0.1:${camPort}/cam`);
    const running = await waitForRun(db.pool, id, (r) => r.state === 'running', 30_000);
    // A reader for a few seconds: readers and bytes sent are counted while it plays.
    const reader = runToEnd('ffmpeg', ['-v', 'error', '-rtsp_transport', 'tcp', '-i', running.output_url!, '-t', '6', '-f', 'null', '-'], 30_000);
    await sleep(4000);
    const f = await scrape(`${base}/metrics`);
    await reader;

    const run = { run_id: id, client_id: 'acme' };
    const framesIn = one(f, 'sie_run_frames_in', 'sie_run_frames_in_total', run);
    const framesOut = one(f, 'sie_run_frames_out', 'sie_run_frames_out_total', run);
    expect(framesIn).toBeGreaterThan(10);
    expect(framesOut).toBeGreaterThan(10);
    for (const stage of ['inference', 'rules', 'drawing', 'output', 'encoder']) {
      const dropped = one(f, 'sie_run_frames_dropped', 'sie_run_frames_dropped_total', { ...run, stage });
      expect(dropped).toBeGreaterThanOrEqual(0);
      expect(dropped).toBeLessThan(framesIn);
    }
    expect(one(f, 'sie_run_frames_repeated', 'sie_run_frames_repeated_total', run)).toBeGreaterThanOrEqual(0);
    expect(one(f, 'sie_run_frames_slate', 'sie_run_frames_slate_total', run)).toBeGreaterThanOrEqual(0);
    expect(one(f, 'sie_run_reconnects', 'sie_run_reconnects_total', run)).toBe(0);
    expect(one(f, 'sie_run_readers', 'sie_run_readers', run)).toBe(1);
    expect(one(f, 'sie_run_sent_bytes', 'sie_run_sent_bytes_total', run)).toBeGreaterThan(10_000);
    expect(one(f, 'sie_run_flow_state', 'sie_run_flow_state', { ...run, state: 'flowing' }) + one(f, 'sie_run_flow_state', 'sie_run_flow_state', { ...run, state: 'blocked' })).toBe(1);
    expect(one(f, 'sie_run_flow_state', 'sie_run_flow_state', { ...run, state: 'stalled' })).toBe(0);
    for (const stage of ['inference', 'rules', 'drawing']) {
      for (const h of ['sie_run_stage_wait_seconds', 'sie_run_stage_service_seconds']) {
        const count = one(f, h, `${h}_count`, { ...run, stage });
        const sum = one(f, h, `${h}_sum`, { ...run, stage });
        expect(count).toBeGreaterThan(5);
        expect(sum / count).toBeGreaterThanOrEqual(0);
        expect(sum / count).toBeLessThan(2);
      }
    }
    const latCount = one(f, 'sie_run_latency_seconds', 'sie_run_latency_seconds_count', run);
    const latSum = one(f, 'sie_run_latency_seconds', 'sie_run_latency_seconds_sum', run);
    expect(latCount).toBeGreaterThan(5);
    expect(latCount).toBeLessThanOrEqual(framesIn);
    // Arrival → mount: more than the inference alone takes, well under the 2-slot queues' bound of seconds.
    expect(latSum / latCount).toBeGreaterThan(0.001);
    expect(latSum / latCount).toBeLessThan(2);

    expect(one(f, 'sie_engine_runs', 'sie_engine_runs')).toBe(1);
    expect(one(f, 'sie_engine_capacity_runs', 'sie_engine_capacity_runs')).toBe(4);
    expect(one(f, 'sie_engine_claims', 'sie_engine_claims_total')).toBe(1);
    expect(one(f, 'sie_engine_lease_held', 'sie_engine_lease_held')).toBe(1);
    expect(one(f, 'sie_engine_lease_renewal_seconds', 'sie_engine_lease_renewal_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(one(f, 'sie_engine_event_backlog', 'sie_engine_event_backlog', { sink: 'webhook' })).toBeGreaterThanOrEqual(0);
    expect(samplesOf(f, 'sie_engine_event_backlog', 'sie_engine_event_backlog', { sink: 'mqtt' })).toHaveLength(0);
    expect(f.get('sie_process_cpu_seconds')?.type).toBe('counter');

    await db.pool.query(`UPDATE runs SET stop_requested_at = now() WHERE id = $1`, [id]);
    await waitForRun(db.pool, id, (r) => r.state === 'stopped', 30_000);
    await until(async () => samplesOf(await scrape(`${base}/metrics`), 'sie_run_frames_in', 'sie_run_frames_in_total', { run_id: id }).length === 0, 10_000, 'run series removed');
    const after = await scrape(`${base}/metrics`);
    for (const fam of after.values()) for (const s of fam.samples) expect(s.labels.run_id).toBeUndefined();
    expect(one(after, 'sie_engine_runs', 'sie_engine_runs')).toBe(0);

    engine.child.kill('SIGTERM');
    expect((await engine.exited).code).toBe(0);
  }, 120_000);

  it('the API serves runs by state and its own requests', async () => {
    const metrics = new SieMetrics();
    const app = await buildApi({ pool: db.pool, dataDir: MODELS_DIR, metrics });
    try {
      await insertRun(db.pool, configId, 'rtsp://127.0.0.1:1/none');
      expect((await app.inject('/v1/runs')).statusCode).toBe(200);
      const r = await app.inject('/metrics');
      expect(r.statusCode).toBe(200);
      const f = parseOpenMetrics(r.body);
      expect(one(f, 'sie_runs', 'sie_runs', { state: 'pending' })).toBeGreaterThanOrEqual(1);
      expect(one(f, 'sie_http_requests', 'sie_http_requests_total', { method: 'GET', route: '/v1/runs', status: '200' })).toBe(1);
      expect(one(f, 'sie_http_request_duration_seconds', 'sie_http_request_duration_seconds_count', { method: 'GET', route: '/v1/runs' })).toBe(1);
    } finally {
      await app.close();
    }
  });
});
