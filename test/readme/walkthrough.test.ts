import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { freePort, runToEnd, start, type Spawned } from '../helpers/processes.js';
import { SIE } from '../helpers/media.js';

/**
 * The README's API walkthrough (between `walkthrough:begin` and `walkthrough:end`), run as it is with bash
 * against a real `sie serve` (API and engine, real PostgreSQL, the real model, the plaza clip): a step the
 * README shows that stops working fails here.
 */
let db: TestDatabase;
let serve: Spawned;
let api: string;
let dataDir: string;

async function walkthrough(): Promise<string> {
  const readme = await readFile('README.md', 'utf8');
  const m = /<!-- walkthrough:begin -->\n```sh\n([\s\S]*?)```\n<!-- walkthrough:end -->/.exec(readme);
  if (!m) throw new Error('README.md has no walkthrough block between its markers');
  return m[1]!;
}

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), 'sie-walkthrough-'));
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  serve = start(SIE, ['serve', '--port', String(port), '--rtsp-port', String(await freePort()), '--media-root', resolve('../shared/media'), '--poll-interval', '0.5'], {
    SIE_DATABASE_URL: db.url,
    SIE_DATA_DIR: dataDir,
  });
  await serve.waitFor(/^api: http/m, 60_000);
}, 90_000);

afterAll(async () => {
  serve?.child.kill('SIGTERM');
  await serve?.exited;
  await db?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('the README walkthrough', () => {
  it('uploads the model, creates the config and the run, shows its stream, events and counters, and stops it', async () => {
    const script = await walkthrough();
    // bash -e: every command must succeed (a curl -f on an error status, a grep that finds no event).
    const r = await runToEnd('bash', ['-e', '-c', script], 150_000, { API: api });
    expect(r.code, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}\nserve:\n${serve.stdout().slice(-3000)}${serve.stderr().slice(-3000)}`).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^state: (starting|connecting|running) {2}watch: ffplay -rtsp_transport tcp rtsp:\/\/.+\/[0-9a-f-]{36}$/);
    const events = lines.filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as { type: string; client_id: string; rule_id: string });
    expect(events).toHaveLength(3);
    for (const e of events) expect(e).toMatchObject({ client_id: 'campus', rule_id: expect.stringMatching(/^(walkway|parked)$/) });
    const counters = JSON.parse(lines[4]!) as Record<string, unknown>;
    expect(counters).toMatchObject({ walkway: { type: 'line_crossing' }, parked: { type: 'zone_dwell' } });
    // The last two transitions: the stop requested, then done.
    expect(lines.slice(-2)).toEqual(['running -> stopping stop requested', expect.stringMatching(/^stopping -> stopped/)]);
    const { rows } = await db.pool.query('SELECT state, client_id FROM runs');
    expect(rows).toEqual([{ state: 'stopped', client_id: 'campus' }]);
  }, 180_000);
});
