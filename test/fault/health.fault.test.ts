import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from 'pg';
import type { FastifyInstance } from 'fastify';
import { createPool, ensureDatabase } from '../../src/io/db/pool.js';
import { migrate } from '../../src/io/db/migrate.js';
import { buildApi } from '../../src/io/http/app.js';
import { MODELS_DIR } from '../helpers/engineFixtures.js';
import { createPrivatePostgres, type PrivatePostgres } from '../../src/bench/privatePostgres.js';
import { freePort, killAll, start, until } from '../helpers/processes.js';
import { SIE } from '../helpers/media.js';

/**
 * Fault suite: the Kubernetes probes follow the database. A private cluster (never the shared server) is
 * stopped and started under `sie engine --metrics-port` and the API: readiness turns 503 naming the
 * database (and, once the TTL has passed without a heartbeat, the lease), liveness stays 200, and both
 * are ready again when the database is back.
 */

const LEASE_TTL_S = 3;

let pgp: PrivatePostgres;
let pool: Pool;
let url: string;
let api: FastifyInstance;

beforeAll(async () => {
  pgp = await createPrivatePostgres();
  url = pgp.url('sie');
  await ensureDatabase(url);
  pool = createPool(url, { max: 4 });
  await migrate(pool);
  api = await buildApi({ pool, dataDir: MODELS_DIR });
}, 120_000);

afterAll(async () => {
  await killAll();
  await api?.close();
  await pool?.end().catch(() => undefined);
  await pgp?.destroy();
}, 60_000);

interface ProbeBody {
  status?: string;
  error?: string;
  detail?: string;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

async function probe(url: string): Promise<{ status: number; body: ProbeBody }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as ProbeBody };
}

describe('fault: the probes while the database goes away and comes back', () => {
  it('readiness flips to 503 naming the database (then the lease) and back to 200; liveness stays 200', async () => {
    const port = await freePort();
    const engine = start(
      SIE,
      ['engine', '--metrics-port', String(port), '--metrics-host', '127.0.0.1', '--rtsp-host', '127.0.0.1', '--rtsp-port', String(await freePort()),
        '--lease-ttl', String(LEASE_TTL_S), '--poll-interval', '0.5', '--inference-workers', '0'],
      { SIE_DATABASE_URL: url, SIE_DATA_DIR: MODELS_DIR },
    );
    await engine.waitFor(/^engine: /m, 30_000);
    const base = `http://127.0.0.1:${port}`;
    await until(async () => (await probe(`${base}/startupz`)).status === 200, 15_000, 'engine registered');
    expect(await probe(`${base}/readyz`)).toEqual({
      status: 200,
      body: { status: 'ok', checks: { database: { ok: true }, lease: { ok: true }, draining: { ok: true } } },
    });
    expect((await api.inject('/readyz')).statusCode).toBe(200);

    await pgp.stop('immediate');
    await until(async () => (await probe(`${base}/readyz`)).status === 503, 10_000, 'engine not ready');
    const down = await probe(`${base}/readyz`);
    expect(down.body.error).toBe('unavailable');
    expect(down.body.checks.database?.ok).toBe(false);
    expect(down.body.detail).toMatch(/^database: /);
    const apiDown = await api.inject('/readyz');
    expect(apiDown.statusCode).toBe(503);
    expect(apiDown.json().checks.database.ok).toBe(false);
    // No heartbeat can renew the lease: past its TTL readiness names it too.
    await until(async () => (await probe(`${base}/readyz`)).body.checks.lease?.ok === false, (LEASE_TTL_S + 3) * 1000, 'lease reported lost');
    expect((await probe(`${base}/readyz`)).body.detail).toMatch(/lease: not renewed within its TTL/);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await api.inject('/healthz')).statusCode).toBe(200);

    await pgp.start();
    await until(async () => (await probe(`${base}/readyz`)).status === 200, 20_000, 'engine ready again');
    expect((await probe(`${base}/readyz`)).body.checks).toEqual({ database: { ok: true }, lease: { ok: true }, draining: { ok: true } });
    await until(async () => (await api.inject('/readyz')).statusCode === 200, 10_000, 'API ready again');

    engine.child.kill('SIGTERM');
    expect((await engine.exited).code).toBe(0);
  }, 120_000);
});
