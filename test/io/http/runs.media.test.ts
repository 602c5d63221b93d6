import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { MODELS_DIR, insertModelAndConfig, insertRun, waitForRun } from '../../helpers/engineFixtures.js';
import { PLAZA, SIE } from '../../helpers/media.js';
import { freePort, killAll, runToEnd, start, type Spawned } from '../../helpers/processes.js';

/**
 * Issue 12 #6: `file://` sources only below the media root, through the real `sie serve` (API and engine
 * in one process) over HTTP. Runs `bin/sie`: the compiled dist/ (build first).
 */

let db: TestDatabase;
let configId: string;
const outer = realpathSync(mkdtempSync(join(tmpdir(), 'sie-media-')));
const root = join(outer, 'media');
const clip = join(root, 'clip.mp4');

async function startServe(extra: string[]): Promise<{ proc: Spawned; base: string }> {
  const port = await freePort();
  const proc = start(SIE, ['serve', '--port', String(port), '--rtsp-port', String(await freePort()), '--poll-interval', '0.2', ...extra], {
    SIE_DATABASE_URL: db.url,
    SIE_DATA_DIR: MODELS_DIR,
    SIE_MEDIA_ROOT: '',
  });
  await proc.waitFor(/^api: http/m, 30_000);
  return { proc, base: `http://127.0.0.1:${port}` };
}

const postRun = (base: string, source_url: string) =>
  fetch(`${base}/v1/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'acme', config_id: configId, source_url, retry: { max_attempts: 0 } }),
  });

beforeAll(async () => {
  db = await createTestDatabase();
  ({ configId } = await insertModelAndConfig(db.pool));
  mkdirSync(join(root, 'sub'), { recursive: true });
  expect((await runToEnd('ffmpeg', ['-v', 'error', '-i', PLAZA, '-t', '2', '-c', 'copy', clip])).code).toBe(0);
  symlinkSync('/etc/passwd', join(root, 'passwd'));
}, 60_000);

afterAll(async () => {
  await killAll();
  await db?.drop();
  rmSync(outer, { recursive: true, force: true });
});

describe('sie serve without a media root (the default)', () => {
  let serve: { proc: Spawned; base: string };
  beforeAll(async () => {
    serve = await startServe([]);
  }, 60_000);
  afterAll(() => serve.proc.child.kill('SIGTERM'));

  it.each(['file:///etc/passwd', 'file:///dev/zero', `file://${clip}`])('refuses %s with 422 naming source_url and how to enable files', async (url) => {
    const r = await postRun(serve.base, url);
    expect(r.status).toBe(422);
    expect(await r.json()).toEqual({ error: 'unprocessable', detail: expect.stringMatching(/^source_url: file sources are disabled here: .*--media-root DIR/) });
  });

  it('a file run inserted by plain SQL fails with config_invalid instead of being read', async () => {
    const id = await insertRun(db.pool, configId, `file://${clip}`);
    const row = await waitForRun(db.pool, id, (r) => r.state === 'failed', 30_000);
    expect(row.error_kind).toBe('config_invalid');
    expect(row.error_message).toMatch(/^source_url: file sources are disabled/);
  }, 40_000);
});

describe('sie serve --media-root DIR', () => {
  let serve: { proc: Spawned; base: string };
  beforeAll(async () => {
    serve = await startServe(['--media-root', root]);
  }, 60_000);
  afterAll(() => serve.proc.child.kill('SIGTERM'));

  it.each([
    ['file:///etc/passwd', /^source_url: \/etc\/passwd is outside the media root$/],
    ['file:///dev/zero', /^source_url: \/dev\/zero is outside the media root$/],
    [`file://${root}/../../../etc/passwd`, /^source_url: \/etc\/passwd is outside the media root$/],
    [`file://${root}/passwd`, /^source_url: .* is outside the media root \(through a symbolic link\)$/],
    [`file://${root}/sub`, /^source_url: .* is not a regular file$/],
    [`file://${root}/missing.mp4`, /^source_url: no such file under the media root/],
  ])('refuses %s (422)', async (url, why) => {
    const r = await postRun(serve.base, url);
    expect(r.status).toBe(422);
    expect(((await r.json()) as { detail: string }).detail).toMatch(why);
  });

  it('runs a file below the root to its end', async () => {
    const r = await postRun(serve.base, `file://${clip}`);
    expect(r.status).toBe(201);
    const row = await waitForRun(db.pool, ((await r.json()) as { id: string }).id, (x) => x.state === 'completed' || x.state === 'failed', 90_000);
    expect(row).toMatchObject({ state: 'completed', error_kind: null });
  }, 120_000);

  it.each([
    ['file:///etc/passwd', /^source_url: \/etc\/passwd is outside the media root$/],
    ['/dev/zero', /^source_url: \/dev\/zero is outside the media root$/],
    [`file://${root}/passwd`, /through a symbolic link/],
    ['concat:/etc/passwd', /^source_url: expected rtsp:\/\//],
  ])('a run inserted by plain SQL with %s fails with config_invalid naming the reason', async (url, why) => {
    const id = await insertRun(db.pool, configId, url);
    const row = await waitForRun(db.pool, id, (r) => r.state === 'failed', 30_000);
    expect(row.error_kind).toBe('config_invalid');
    expect(row.error_message).toMatch(why);
  }, 40_000);
});

it('sie serve --media-root that is not a directory: usage error (exit 2)', async () => {
  const r = await runToEnd(SIE, ['serve', '--media-root', join(outer, 'nope')], 30_000);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/--media-root: media root .*nope does not exist/);
});
