import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Stand-ins for ffmpeg (shell scripts) for unit tests of the process plumbing: `install()` writes them to
 * a temp dir and points FFMPEG_PATH at the first; `restore()` puts FFMPEG_PATH back and removes the dir.
 */
export function fakeFfmpeg(prefix: string, scripts: Record<string, readonly string[]>) {
  let dir = '';
  let saved: string | undefined;
  const paths: Record<string, string> = {};
  return {
    paths,
    get dir() {
      return dir;
    },
    install(): void {
      dir = mkdtempSync(join(tmpdir(), `sie-${prefix}-`));
      for (const [name, lines] of Object.entries(scripts)) {
        const file = join(dir, name);
        writeFileSync(file, ['#!/bin/sh', ...lines, ''].join('\n'));
        chmodSync(file, 0o755);
        paths[name] = file;
      }
      saved = process.env.FFMPEG_PATH;
      process.env.FFMPEG_PATH = paths[Object.keys(scripts)[0]!];
    },
    restore(): void {
      if (saved === undefined) delete process.env.FFMPEG_PATH;
      else process.env.FFMPEG_PATH = saved;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
