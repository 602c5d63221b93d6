import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { SIE } from '../../helpers/media.js';
import { killAll, start } from '../../helpers/processes.js';

// `sie serve --host 127.0.0.1` used to publish RTSP on 0.0.0.0. This starts the built bin/sie (run
// `npx tsc -p tsconfig.json` or `make build` first: a plain vitest run tests the last build).

let db: TestDatabase;
let dataDir: string;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
  dataDir = mkdtempSync(join(tmpdir(), 'sie-serve-bind-'));
});

afterAll(async () => {
  await killAll();
  await db?.drop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function connect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

describe('sie serve', () => {
  it('binds RTSP to --host: reachable on 127.0.0.1, refused on 127.0.0.2 (another loopback address)', async () => {
    const serve = start(SIE, ['serve', '--host', '127.0.0.1', '--port', '0', '--rtsp-port', '0', '--max-runs', '0'], {
      SIE_DATABASE_URL: db.url,
      SIE_DATA_DIR: dataDir,
    });
    const m = await serve.waitFor(/rtsp=rtsp:\/\/[^:]+:(\d+)\//, 30_000);
    const port = Number(m[1]);
    await serve.waitFor(/^api: /m, 30_000);
    expect(port).toBeGreaterThan(0);
    expect(await connect('127.0.0.1', port)).toBe('connected');
    expect(await connect('127.0.0.2', port)).toBe('ECONNREFUSED');
    serve.child.kill('SIGTERM');
    const exit = await serve.exited;
    expect(exit, `stdout:\n${serve.stdout()}\nstderr:\n${serve.stderr().slice(-3000)}`).toEqual({ code: 0, signal: null });
  }, 60_000);
});
