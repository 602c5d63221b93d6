import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { databaseUrl } from '../../src/io/db/pool.js';
import type { OutageRecord, Sample, SoakSummary } from '../../src/bench/soakReport.js';
import { isAlive, killAll, runToEnd, start } from '../helpers/processes.js';
import { LABELS, MODEL, PLAZA, SIE } from '../helpers/media.js';

/**
 * `sie bench --soak` for a minute (runs the compiled dist/: build first): real cameras, a real engine
 * process, real readers, two real camera outages. Checks what it measures is there and sane, not the
 * goals themselves (drops depend on how loaded this machine is).
 */

const dir = mkdtempSync(join(tmpdir(), 'sie-soak-test-'));
afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('sie bench --soak', () => {
  it('--help prints its options', async () => {
    const r = await runToEnd(SIE, ['bench', '--help']);
    expect(r.code).toBe(0);
    for (const opt of ['--soak', '--streams', '--duration', '--outage-every', '--outage-length', '--sample-every', '--out']) expect(r.stdout).toContain(opt);
  });

  it('a one-minute soak with two outages writes samples, outages and a summary; every run came back', async () => {
    const out = join(dir, 'soak.jsonl');
    const p = start(SIE, ['bench', '--soak', '--duration', '60s', '--outage-every', '20s', '--outage-length', '4s', '--streams', '2',
      '--out', out, '--media', PLAZA, '--model', MODEL, '--labels', LABELS]);
    const { code } = await p.exited;
    const stdout = p.stdout();
    expect(code, `${stdout}\n${p.stderr().slice(-3000)}`).toBe(0);

    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Sample | OutageRecord | SoakSummary);
    const samples = lines.filter((l): l is Sample => l.type === 'sample');
    const outages = lines.filter((l): l is OutageRecord => l.type === 'outage');
    const summary = lines.at(-1) as SoakSummary;
    expect(summary.type).toBe('summary');

    // Samples at 0, 10, …, 50 s and one at the end.
    expect(samples.length).toBeGreaterThanOrEqual(7);
    for (const s of samples) {
      expect(s.engine.rssKb).toBeGreaterThan(50_000);
      expect(s.engine.fds).toBeGreaterThan(10);
      expect(s.runs).toHaveLength(2);
      expect(s.load).toHaveLength(3);
    }
    // Each run has a decoder and an encoder ffmpeg once it runs: the engine's children are seen.
    expect(Math.max(...samples.map((s) => s.engine.children))).toBeGreaterThanOrEqual(2);
    // Counters come from the engine's own `run stats` lines and only grow.
    const last = samples.at(-1)!;
    for (const r of last.runs) {
      expect(r.framesIn).toBeGreaterThan(100);
      expect(r.framesOut).toBeGreaterThan(100);
      expect(r.reconnects).toBeGreaterThanOrEqual(1); // one per retry attempt of its outage
    }
    for (let i = 1; i < samples.length; i++) expect(samples[i]!.totals.framesIn).toBeGreaterThanOrEqual(samples[i - 1]!.totals.framesIn);
    // The output mounts stayed up through the outages: the readers were never cut off.
    expect(last.readers).toEqual({ alive: 2, restarts: 0 });

    // Outages at 20 s and 40 s, on camera 0 then 1: each noticed (retrying) and recovered.
    expect(outages.map((o) => o.stream)).toEqual([0, 1]);
    for (const o of outages) {
      expect(o.sawRetrying).toBe(true);
      expect(o.runningAgainAtS).not.toBeNull();
      expect(o.runningAgainAtS!).toBeGreaterThan(o.killedAtS);
      expect(o.allRunning).toBe(true);
    }

    expect(summary).toMatchObject({ streams: 2, durationS: 60, warmupS: 20, outages: 2, outagesRecovered: 2, engineCrashed: false });
    expect(summary.rssKbWarmupEnd).toBeGreaterThan(50_000);
    expect(summary.rssGrowthPct).not.toBeNull();
    expect(summary.framesIn).toBe(last.totals.framesIn);
    expect(summary.dropPct).not.toBeNull();
    expect(summary.goals).toHaveLength(5);
    expect(summary.goals.find((g) => g.name.startsWith('every run'))!.pass).toBe(true);

    // The human summary: figures with the load average, one PASS/MISS line per goal.
    expect(stdout).toMatch(/load average \(end\): [\d.]+ [\d.]+ [\d.]+/);
    expect(stdout).toMatch(/engine RSS: [\d.]+ MB at warm-up end, [\d.]+ MB at the end, growth -?[\d.]+%/);
    expect(stdout).toMatch(/outages: 2 done, 2 with every run back to running/);
    expect(stdout.match(/^ {2}(PASS|MISS) {2}/gm)).toHaveLength(5);

    // Nothing left behind: the engine is gone and the soak's database dropped.
    expect(isAlive(last.engine.pid)).toBe(false);
    const dbName = /soak: database (\S+)/.exec(stdout)![1]!;
    const admin = new URL(databaseUrl());
    admin.pathname = '/postgres';
    const client = new pg.Client({ connectionString: admin.toString() });
    await client.connect();
    try {
      const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName]);
      expect(rowCount).toBe(0);
    } finally {
      await client.end();
    }
  }, 150_000);
});
