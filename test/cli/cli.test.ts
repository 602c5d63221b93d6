import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createPool, dropDatabase } from '../../src/io/db/pool.js';
import { randomDatabaseUrl } from '../helpers/db.js';
import { MODELS_DIR, insertModelAndConfig, insertRun } from '../helpers/engineFixtures.js';
import { freePort, killAll, sleep, start, until } from '../helpers/processes.js';
import { SIE, runSie } from '../helpers/media.js';
import { parseOpenMetrics, samplesOf } from '../helpers/openMetrics.js';

/** The CLI's service commands as a user runs them: `sie db`, `sie api`, `sie serve`, each on its own database. */

const dbs: string[] = [];
function newDatabaseUrl(): string {
  const url = randomDatabaseUrl('sie_cli');
  dbs.push(url);
  return url;
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

afterEach(async () => {
  await killAll();
});

afterAll(async () => {
  for (const url of dbs) await dropDatabase(url).catch(() => undefined);
});

describe('sie db', () => {
  it('create makes the database once; migrate applies the schema once; both say what they did', async () => {
    const url = newDatabaseUrl();
    const env = { SIE_DATABASE_URL: url };
    const name = new URL(url).pathname.slice(1);
    const created = await runSie(['db', 'create'], env);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(`${name}: created`);
    const again = await runSie(['db', 'create'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`${name}: exists already`);

    const migrated = await runSie(['db', 'migrate'], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toMatch(/: applied \S+/);
    const pool = createPool(url, { max: 1 });
    try {
      const tables = await pool.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public'`);
      expect(tables.rows.map((r) => r.t)).toEqual(expect.arrayContaining(['runs', 'run_transitions', 'engines', 'configs', 'models', 'events']));
    } finally {
      await pool.end();
    }
    const upToDate = await runSie(['db', 'migrate'], env);
    expect(upToDate.code).toBe(0);
    expect(upToDate.stdout).toContain('up to date');
  }, 120_000);

  it('sie replay --preset takes x264 presets only: another is a usage error naming --preset', async () => {
    const r = await runSie(['replay', '../shared/media/plaza-pedestrians.mp4', '--model', `${MODELS_DIR}/yolox_nano.onnx`, '--labels', `${MODELS_DIR}/coco_classes.txt`, '--preset', 'placebo']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--preset');
  }, 60_000);

  it('an unknown or missing subcommand, or an extra argument, is a usage error (exit 2) with the usage', async () => {
    const env = { SIE_DATABASE_URL: newDatabaseUrl() };
    // Alone: db's help, with its subcommands, on stderr.
    const alone = await runSie(['db'], env);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/^Usage: sie db COMMAND[^]*\n {2}create {2,}[^]*\n {2}migrate {2,}/);
    const drop = await runSie(['db', 'drop'], env);
    expect(drop.code).toBe(2);
    expect(drop.stderr).toContain("sie: drop: not a command of sie db\nusage: sie db COMMAND [options]  (details: sie db --help)");
    const now = await runSie(['db', 'migrate', 'now'], env);
    expect(now.code).toBe(2);
    expect(now.stderr).toContain('sie: unexpected argument: sie db migrate takes no arguments');
  }, 60_000);
});

describe('sie api', () => {
  it('serves the API on the given port: health, readiness and a listing; SIGTERM ends it cleanly', async () => {
    const url = newDatabaseUrl();
    expect((await runSie(['db', 'create'], { SIE_DATABASE_URL: url })).code).toBe(0);
    const port = await freePort();
    const api = start(SIE, ['api', '--port', String(port)], { SIE_DATABASE_URL: url, SIE_DATA_DIR: MODELS_DIR });
    await api.waitFor(/^sie api: http:\/\/127\.0\.0\.1:\d+/m, 30_000);
    const base = `http://127.0.0.1:${port}`;
    expect(await getJson(`${base}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await getJson(`${base}/readyz`)).toEqual({ status: 200, body: { status: 'ok', checks: { database: { ok: true } } } });
    const models = await getJson(`${base}/v1/models`);
    expect(models.status).toBe(200);
    const openapi = await getJson(`${base}/openapi.json`);
    expect(openapi.status).toBe(200);
    expect(Object.keys((openapi.body as { paths: object }).paths)).toEqual(expect.arrayContaining(['/v1/runs', '/v1/configs', '/v1/models']));
    api.child.kill('SIGTERM');
    expect((await api.exited).code).toBe(0);
  }, 90_000);

  it('a database that does not exist: exits 1 and says how to create it', async () => {
    const r = await runSie(['api', '--port', String(await freePort())], { SIE_DATABASE_URL: newDatabaseUrl() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('create it with: sie db create');
  }, 60_000);
});

describe('sie serve', () => {
  it('the API and an engine in one process: a run inserted by SQL is claimed and its state read through the API', async () => {
    const url = newDatabaseUrl();
    expect((await runSie(['db', 'create'], { SIE_DATABASE_URL: url })).code).toBe(0);
    const port = await freePort();
    const serve = start(SIE, ['serve', '--port', String(port), '--rtsp-port', String(await freePort()), '--poll-interval', '0.5'], {
      SIE_DATABASE_URL: url,
      SIE_DATA_DIR: MODELS_DIR,
    });
    await serve.waitFor(/^engine: \S+/m, 30_000);
    await serve.waitFor(/^api: http:\/\/127\.0\.0\.1:\d+/m, 30_000);
    const base = `http://127.0.0.1:${port}`;
    // Ready once the engine has registered (its lease): database, lease and draining all pass.
    await until(async () => (await getJson(`${base}/readyz`)).status === 200, 15_000, 'serve ready');
    expect((await getJson(`${base}/readyz`)).body).toEqual({
      status: 'ok',
      checks: { database: { ok: true }, lease: { ok: true }, draining: { ok: true } },
    });

    const pool = createPool(url, { max: 2 });
    try {
      const { configId } = await insertModelAndConfig(pool);
      // A camera that is not there: the engine claims the run, tries it and fails it (not retried).
      const id = await insertRun(pool, configId, `rtsp://127.0.0.1:${await freePort()}/none`, { connect_timeout_s: 2 });
      const t0 = Date.now();
      let run = (await getJson(`${base}/v1/runs/${id}`)).body as { state: string; error?: { kind: string } | null };
      while (run.state !== 'failed') {
        if (Date.now() - t0 > 60_000) throw new Error(`run not failed through the API: ${JSON.stringify(run)}`);
        await sleep(200);
        run = (await getJson(`${base}/v1/runs/${id}`)).body as typeof run;
      }
      expect(JSON.stringify(run)).toContain('source_unreachable');
      // One /metrics on the API port for both halves: the API's runs by state and the engine's families.
      const metrics = parseOpenMetrics(await (await fetch(`${base}/metrics`)).text());
      expect(samplesOf(metrics, 'sie_runs', 'sie_runs', { state: 'failed' })[0]?.value).toBe(1);
      expect(samplesOf(metrics, 'sie_engine_claims', 'sie_engine_claims_total')[0]?.value).toBe(1);
      expect(samplesOf(metrics, 'sie_engine_capacity_runs', 'sie_engine_capacity_runs')[0]?.value).toBe(4);
    } finally {
      await pool.end();
    }
    serve.child.kill('SIGTERM');
    expect((await serve.exited).code).toBe(0);
    expect(serve.stdout()).toContain('serve: stopped');
  }, 120_000);
});
