import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Tests that start `bin/sie` run the compiled dist/, not src/: a plain `npx vitest` after an edit would
 * test the previous build. So before any test file runs, dist/ is rebuilt when any file under src/ (or the
 * tsconfig) is newer than it; a build that does not compile fails the run here, with tsc's errors, instead
 * of every CLI test failing later for a reason nobody sees. tsc rewrites every output, so one output's
 * mtime is the build's.
 */
const root = resolve(import.meta.dirname, '..');
const stamp = join(root, 'dist/cli/main.js');

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtimeMs(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export function buildIsStale(): boolean {
  if (!existsSync(stamp)) return true;
  const sources = Math.max(newestMtimeMs(join(root, 'src')), statSync(join(root, 'tsconfig.json')).mtimeMs);
  return sources > statSync(stamp).mtimeMs;
}

export default function setup(): void {
  if (!buildIsStale()) return;
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  process.stdout.write('globalSetup: dist/ is older than src/ — building (tsc -p tsconfig.json) so bin/sie runs this code\n');
  // --noEmitOnError: a failed build leaves dist/ stale, so the next run tries (and reports) again.
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--noEmitOnError'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(
      `globalSetup: the build failed, so tests that start bin/sie would run stale code. Fix it, or run ` +
        `\`npx tsc -p tsconfig.json\` to see the errors:\n${(r.stdout + r.stderr).slice(-4000)}`,
    );
  }
}
