import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { freePort, runToEnd, until } from '../helpers/processes.js';

/**
 * `make demo` as a new user meets it (scripts/demo.sh, on a pseudo-terminal made by script(1)): the run
 * with the demo's rules, the events printed as they happen, and Ctrl-C (a real ^C typed on the terminal,
 * so the SIGINT goes to the terminal's foreground process group) stopping the run before `sie serve`:
 * the run ends `stopped`, never released to `pending` for the next engine to claim and fail.
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** Processes whose command line contains `marker` (the demo's ports are in them). */
async function processesWith(marker: string): Promise<string[]> {
  const ps = await runToEnd('ps', ['-eo', 'pid=,args=']);
  return ps.stdout.split('\n').filter((l) => l.includes(marker) && !l.includes(' ps -eo'));
}

describe('make demo', () => {
  it('shows the rules and prints events; Ctrl-C stops the run, then sie serve, then the camera', async () => {
    const [api, rtsp, cam] = [await freePort(), await freePort(), await freePort()];
    const env = {
      ...process.env,
      SIE_DATABASE_URL: db.url,
      SIE_DATA_DIR: mkdtempSync(join(tmpdir(), 'sie-demo-data-')),
      SIE_API_PORT: String(api),
      SIE_RTSP_PORT: String(rtsp),
      SIE_CAMERA_PORT: String(cam),
    };
    // script(1) runs the demo on a new pseudo-terminal and copies its own stdin there: ^C written to it
    // is typed on that terminal. script runs the command through $SHELL -c; `exec` makes the demo that
    // shell's process, as `make demo` runs it, whatever $SHELL is: dash (CI's /bin/sh when SHELL is unset)
    // would otherwise wait for the demo, die of the ^C itself and make script exit 130.
    const child = spawn('script', ['-qefc', 'exec ./scripts/demo.sh', '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await until(() => /^ {2}\d\d:\d\d:\d\d {2}(walkway|meeting-point|parked) /m.test(out) || child.exitCode !== null, 150_000, `an event line\n${out}`);
      expect(child.exitCode, out).toBeNull();
      const runId = /run ([0-9a-f-]{36}) is running/.exec(out)?.[1];
      expect(runId, out).toBeDefined();
      expect(out).toContain(`ffplay -rtsp_transport tcp rtsp://127.0.0.1:${rtsp}/live`);
      expect(out).toContain(`vlc rtsp://127.0.0.1:${rtsp}/live`);
      expect(out).toContain(`curl -N http://127.0.0.1:${api}/v1/runs/${runId}/events/stream`);
      for (const rule of ['walkway', 'meeting-point', 'parked']) expect(out).toMatch(new RegExp(`^ {4}${rule} `, 'm'));

      child.stdin.write('\x03');
      const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
      expect(code, out).toBe(0);
      expect(out).toMatch(new RegExp(`demo: run ${runId} is stopped`));
      expect(out).toMatch(/demo: stopping sie serve \(SIGTERM\)/);
      expect(out).toMatch(/demo: stopped \(logs are in /);

      const t = await db.pool.query<{ from_state: string | null; to_state: string }>(
        `SELECT from_state, to_state FROM run_transitions WHERE run_id = $1 ORDER BY id`,
        [runId],
      );
      expect(t.rows.map((r) => r.to_state).join(' ')).toMatch(/^pending starting connecting running( (retrying|connecting|running))* stopping stopped$/);
      expect((await db.pool.query(`SELECT id FROM engines`)).rows, 'sie serve went after the run, and cleanly').toEqual([]);
      for (const port of [api, cam]) expect(await processesWith(`--port ${port}`), `nothing left on port ${port}`).toEqual([]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      // The camera and sie serve run in their own sessions: a failed test must not leave them behind.
      for (const port of [api, cam]) {
        for (const line of await processesWith(`--port ${port}`)) process.kill(Number(line.trim().split(/\s+/)[0]), 'SIGKILL');
      }
    }
  }, 240_000);
});
