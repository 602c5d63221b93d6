import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { MODELS_DIR, insertModelAndConfig, insertRun, waitForRun } from '../../helpers/engineFixtures.js';
import { LABELS, MODEL, PLAZA, SIE } from '../../helpers/media.js';
import { freePort, killAll, runToEnd, start, type Spawned } from '../../helpers/processes.js';

/**
 * Issue 12 #2: passwords holding an unencoded '@' or whitespace, through the real `sie serve` (API and
 * engine in one process, its log on stderr), over HTTP. Runs `bin/sie`: the compiled dist/ (build first).
 */

const MARK = 'ssW0rdX';
const LEAKING: Record<string, string> = {
  '@': `rtsp://u:p@${MARK}@127.0.0.1:1/x`,
  tab: `rtsp://u:p\t${MARK}@127.0.0.1:1/x`,
  newline: `rtsp://u:p\n${MARK}@127.0.0.1:1/x`,
};

let db: TestDatabase;
let modelId: string;
let configId: string;
let serve: Spawned;
let base: string;
const tmp = mkdtempSync(join(tmpdir(), 'sie-urls-'));

const json = { 'content-type': 'application/json' };
const post = (path: string, body: unknown) => fetch(`${base}${path}`, { method: 'POST', headers: json, body: JSON.stringify(body) });
const get = async (path: string) => {
  const r = await fetch(`${base}${path}`);
  expect(r.status, path).toBe(200);
  return r.text();
};
/** Everything a caller or an operator can see of a run: the reply, GET, the listing, the transitions. */
const everythingShownOf = async (id: string) => [await get(`/v1/runs/${id}`), await get('/v1/runs?limit=1000'), await get(`/v1/runs/${id}/transitions`)].join('\n');

beforeAll(async () => {
  db = await createTestDatabase();
  ({ modelId, configId } = await insertModelAndConfig(db.pool));
  const port = await freePort();
  serve = start(SIE, ['serve', '--port', String(port), '--rtsp-port', String(await freePort()), '--poll-interval', '0.2'], {
    SIE_DATABASE_URL: db.url,
    SIE_DATA_DIR: MODELS_DIR,
    SIE_LOG_LEVEL: 'debug',
  });
  await serve.waitFor(/^api: http/m, 30_000);
  base = `http://127.0.0.1:${port}`;
}, 60_000);

afterAll(async () => {
  await killAll();
  await db?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('source_url and webhook URLs with ambiguous userinfo are refused at the edge', () => {
  it.each(Object.entries(LEAKING))("POST /v1/runs with %s in the password: 400 naming source_url, password not echoed", async (what, url) => {
    const r = await post('/v1/runs', { client_id: 'acme', config_id: configId, source_url: url });
    const body = await r.text();
    expect(r.status, body).toBe(400);
    expect(JSON.parse(body)).toEqual({
      error: 'validation',
      detail: expect.stringMatching(what === '@' ? /^source_url: userinfo holds a character that must be percent-encoded/ : /^source_url: no whitespace or control characters/),
    });
    expect(body).not.toContain(MARK);
  });

  it('a config whose webhook URL has an unencoded @ in its password: 400 naming webhook.url', async () => {
    const r = await post('/v1/configs', {
      name: 'hook',
      client_id: 'acme',
      model_id: modelId,
      webhook: { url: `http://hook:p@${MARK}@127.0.0.1:9/events` },
    });
    const body = await r.text();
    expect(r.status, body).toBe(400);
    expect(JSON.parse(body).detail).toMatch(/^webhook\.url: userinfo holds a character that must be percent-encoded/);
    expect(body).not.toContain(MARK);
  });

  it('sie run SOURCE with such a URL is a usage error (exit 2) that does not print the password', async () => {
    const r = await runToEnd(SIE, ['run', LEAKING['@']!, '--model', MODEL, '--labels', LABELS], 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/userinfo holds a character that must be percent-encoded/);
    expect(r.stdout + r.stderr).not.toContain(MARK);
  });
});

describe('runs already holding such URLs (inserted by SQL) never show the password', () => {
  it('the run fails to connect; its reply, GET, listing, transitions and the server log hide the whole password', async () => {
    const ids = await Promise.all(
      Object.values(LEAKING).map((url) => insertRun(db.pool, configId, url, { retry_max_attempts: 0, connect_timeout_s: 5 })),
    );
    for (const id of ids) {
      const row = await waitForRun(db.pool, id, (r) => r.state === 'failed', 90_000);
      // The failure is ffmpeg's, whose message names the URL: the text that used to leak.
      expect(row.error_kind).toBe('source_unreachable');
      const shown = await everythingShownOf(id);
      expect(shown).toContain('"source_url":"rtsp://u:***@127.0.0.1:1/x"');
      expect(shown).not.toContain(MARK);
    }
    expect(serve.stdout() + serve.stderr()).toContain('u:***@');
    expect(serve.stdout() + serve.stderr()).not.toContain(MARK);
  }, 120_000);
});

describe('a percent-encoded password with @ and a space works end to end', () => {
  const password = 'p@ss W0rdX!';
  const encoded = 'p%40ss%20W0rdX!';
  let cam: Spawned;
  let camUrl: string;

  beforeAll(async () => {
    const file = join(tmp, 'camera-password');
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    const port = await freePort();
    cam = start(SIE, ['camera', PLAZA, '--port', String(port), '--host', '127.0.0.1', '--user', 'viewer', '--password-file', file]);
    await cam.waitFor(/^camera: /m, 30_000);
    camUrl = `127.0.0.1:${port}/cam`;
  }, 60_000);

  it('sie camera --password-file keeps the password off its process list', () => {
    const cmdline = readFileSync(`/proc/${cam.child.pid}/cmdline`, 'utf8');
    expect(cmdline).toContain('--password-file');
    expect(cmdline).not.toContain('W0rdX');
  });

  it('the camera really demands the password: without it the run fails with 401', async () => {
    const r = await post('/v1/runs', { client_id: 'acme', config_id: configId, source_url: `rtsp://${camUrl}`, retry: { max_attempts: 0 } });
    expect(r.status).toBe(201);
    const row = await waitForRun(db.pool, ((await r.json()) as { id: string }).id, (x) => x.state === 'failed', 90_000);
    expect(row.error_message).toMatch(/401/);
  }, 120_000);

  it('POST 201, the engine authenticates and runs it; nothing shown or logged holds the password', async () => {
    const r = await post('/v1/runs', { client_id: 'acme', config_id: configId, source_url: `rtsp://viewer:${encoded}@${camUrl}` });
    const created = await r.text();
    expect(r.status, created).toBe(201);
    const { id, source_url } = JSON.parse(created) as { id: string; source_url: string };
    expect(source_url).toBe(`rtsp://viewer:***@${camUrl}`);
    await waitForRun(db.pool, id, (x) => x.state === 'running', 90_000);
    expect((await post(`/v1/runs/${id}/stop`, {})).status).toBe(202);
    await waitForRun(db.pool, id, (x) => x.state === 'stopped', 60_000);
    const everything = [created, await everythingShownOf(id), serve.stdout(), serve.stderr(), cam.stdout(), cam.stderr()].join('\n');
    expect(everything).toContain('viewer:***@');
    for (const secret of ['W0rdX', encoded]) expect(everything).not.toContain(secret);
    // Stored as given: the engine needs it.
    const { rows } = await db.pool.query<{ source_url: string }>('SELECT source_url FROM runs WHERE id = $1', [id]);
    expect(rows[0]!.source_url).toContain(encoded);
  }, 150_000);
});

describe('sie camera password options', () => {
  it.each([
    [['--user', 'u', '--password', 'a', '--password-file', '/dev/null'], /one of --password and --password-file/],
    [['--user', 'u'], /give --user together with/],
    [['--user', 'u', '--password-file', '/nonexistent/pw'], /--password-file: cannot read/],
  ])('%j is a usage error', async (args, why) => {
    const r = await runToEnd(SIE, ['camera', PLAZA, '--port', String(await freePort()), ...args], 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(why);
  });
});
