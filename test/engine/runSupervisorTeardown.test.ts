import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Pool } from 'pg';
import type { RunHandle, RunOutcome } from '../../src/actors/runSystem.js';
import type { ClaimedRun } from '../../src/io/db/sql/claimRuns.js';
import type { RtspServer } from '../../src/io/rtsp/index.js';
import { silentLogger } from '../../src/log.js';

/**
 * The supervisor's map of runs through a teardown that outlasts the stop (issue 18, found in review): an
 * engine that lost its lease and got it back may claim a run it is still tearing down. The run system is
 * replaced by a handle whose end the test decides; nothing here reaches the database (no transition is
 * reported, no counters are set), so the pool is never used.
 */
const ends: Array<() => void> = [];
vi.mock('../../src/actors/runSystem.js', () => ({
  startRun: (o: { runId: string }): Partial<RunHandle> => {
    const outcome = { state: 'stopped' } as RunOutcome;
    let end!: () => void;
    const done = new Promise<RunOutcome>((resolve) => (end = () => resolve(outcome)));
    ends.push(end);
    // The stop is only asked: the run ends when the test says (its teardown outlasts the stop).
    return { runId: o.runId, done, state: () => 'running', stop: async () => outcome };
  },
}));

const { RunSupervisor } = await import('../../src/engine/runSupervisor.js');

const row = (epoch: string): ClaimedRun => ({
  id: '00000000-0000-4000-8000-000000000001',
  client_id: 'acme',
  config_id: '00000000-0000-4000-8000-000000000002',
  config_version: 1,
  source_url: 'rtsp://cam.example/1',
  output_mount: 'lobby',
  output_url: 'rtsp://10.0.0.1:8554/lobby',
  retry_max_attempts: 3,
  retry_backoff_initial_s: 1,
  retry_backoff_max_s: 10,
  connect_timeout_s: 10,
  lease_epoch: epoch,
  body: { inference: { confidence: 0.3, iou: 0.45, every_nth_frame: 1 }, rules: [], drawing: {} },
  model_id: '00000000-0000-4000-8000-000000000003',
  model_format: 'yolox',
  model_file_path: 'models/none.onnx',
  model_labels: ['person'],
});

const supervisor = () =>
  new RunSupervisor({
    pool: {} as Pool,
    engineId: 'e1',
    dataDir: '/nonexistent',
    server: {} as RtspServer,
    encoder: { preset: 'ultrafast', keyframeIntervalS: 2, threads: 1 },
    stallTimeoutS: 5,
    logger: silentLogger,
  });

describe('the run supervisor, when a run is claimed again while its old teardown runs', () => {
  it('the old teardown does not drop the new run from the map', async () => {
    ends.length = 0;
    const s = supervisor();
    s.launch(row('1'));
    s.stop(row('1').id, 'lease lost');
    // Claimed again (epoch 2) before the first run's teardown ended.
    s.launch(row('2'));
    ends[0]!();
    await new Promise((r) => setTimeout(r, 20));
    expect(s.has(row('2').id)).toBe(true);
    expect(s.count).toBe(1);
    ends[1]!();
    await new Promise((r) => setTimeout(r, 20));
    expect(s.has(row('2').id)).toBe(false);
  });

  it('abandonAll returns once every run is torn down, not when its stop was only asked', async () => {
    ends.length = 0;
    const s = supervisor();
    s.launch(row('1'));
    let abandoned = false;
    const p = s.abandonAll().then(() => (abandoned = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(abandoned).toBe(false);
    ends[0]!();
    await p;
    expect(s.has(row('1').id)).toBe(false);
  });

  it('abandonAll goes on after a while when a teardown never ends (a last write blocked on a lock)', async () => {
    ends.length = 0;
    vi.useFakeTimers();
    const s = supervisor();
    s.launch(row('1'));
    let abandoned = false;
    const p = s.abandonAll().then(() => (abandoned = true));
    await vi.advanceTimersByTimeAsync(9_000);
    expect(abandoned).toBe(false);
    await vi.advanceTimersByTimeAsync(2_000);
    await p;
    expect(abandoned).toBe(true);
  });
});

afterEach(() => {
  vi.useRealTimers();
});
