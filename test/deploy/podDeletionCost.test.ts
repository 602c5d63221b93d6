import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

// The chart's pod-deletion-cost sidecar, run as the pod runs it (plain node), against two stand-ins on
// loopback: the engine's metrics port (a mutable sie_engine_runs gauge) and the Kubernetes API's pod
// endpoint (recording each PATCH). No cluster here; what the API server does with a merge patch is its own.
const SCRIPT = 'deploy/helm/sie/files/pod-deletion-cost.mjs';

interface Patch { path: string; auth: string | undefined; contentType: string | undefined; body: unknown }

let server: Server | undefined;
let child: ChildProcess | undefined;
let dir: string | undefined;

afterEach(() => {
  child?.kill('SIGKILL');
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  child = server = dir = undefined;
});

async function readBody(req: IncomingMessage): Promise<string> {
  let s = '';
  for await (const chunk of req) s += String(chunk);
  return s;
}

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('pod-deletion-cost sidecar (deploy/helm/sie/files/pod-deletion-cost.mjs)', () => {
  it('patches its pod with the engine\'s run count when it changes, once per change, retrying a failed patch', async () => {
    let runs = 3;
    let failNext = 1; // the API server's first answer is a 500: the sidecar must try again
    const patches: Patch[] = [];
    const apiMethods: string[] = []; // every request to the Kubernetes API: its Role grants patch only
    server = createServer((req, res) => {
      void (async () => {
        if (req.url?.startsWith('/api/')) apiMethods.push(req.method ?? '');
        if (req.method === 'GET' && req.url === '/metrics') {
          res.setHeader('content-type', 'application/openmetrics-text; version=1.0.0');
          res.end(`# HELP sie_engine_runs Runs this engine holds now.\n# TYPE sie_engine_runs gauge\nsie_engine_runs ${runs}\nsie_engine_capacity_runs 4\n# EOF\n`);
          return;
        }
        if (req.method === 'PATCH') {
          const body = await readBody(req);
          if (failNext-- > 0) {
            res.statusCode = 500;
            res.end('{"kind":"Status","status":"Failure"}');
            return;
          }
          patches.push({ path: req.url ?? '', auth: req.headers.authorization, contentType: req.headers['content-type'], body: JSON.parse(body) });
          res.setHeader('content-type', 'application/json');
          res.end('{}');
          return;
        }
        res.statusCode = 404;
        res.end();
      })();
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'sie-pdc-'));
    writeFileSync(join(dir, 'token'), 'tok-1\n');

    child = spawn(process.execPath, [SCRIPT], {
      env: {
        PATH: process.env.PATH,
        POD_NAME: 'sie-engine-cpu-7d9f-abcde',
        POD_NAMESPACE: 'video',
        SIE_METRICS_URL: `${base}/metrics`,
        SIE_KUBE_API_URL: base,
        SIE_KUBE_TOKEN_FILE: join(dir, 'token'),
        SIE_COST_INTERVAL_S: '0.05',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));

    await until('the first patch', () => patches.length === 1);
    expect(patches[0]).toEqual({
      path: '/api/v1/namespaces/video/pods/sie-engine-cpu-7d9f-abcde',
      auth: 'Bearer tok-1',
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { 'controller.kubernetes.io/pod-deletion-cost': '3' } } },
    });
    expect(out).toContain('pod-deletion-cost not updated'); // the 500 was logged, then retried

    // Unchanged load: no more patches over many ticks.
    await new Promise((r) => setTimeout(r, 400));
    expect(patches).toHaveLength(1);

    // The load drops (a run ended): the cost follows, with the token as it is now (tokens rotate).
    writeFileSync(join(dir, 'token'), 'tok-2\n');
    runs = 1;
    await until('the second patch', () => patches.length === 2);
    expect(patches[1]!.auth).toBe('Bearer tok-2');
    expect(patches[1]!.body).toEqual({ metadata: { annotations: { 'controller.kubernetes.io/pod-deletion-cost': '1' } } });

    // Nothing but PATCH reached the API (the first one answered 500, then two writes).
    expect(apiMethods).toEqual(['PATCH', 'PATCH', 'PATCH']);

    // SIGTERM (the pod stopping): exits 0 at once.
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('refuses to start without the downward API\'s POD_NAME and POD_NAMESPACE', async () => {
    child = spawn(process.execPath, [SCRIPT], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child!.once('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(out).toContain('POD_NAME and POD_NAMESPACE must be set');
  });
});
