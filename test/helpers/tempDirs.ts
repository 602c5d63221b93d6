import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Temp directories a test file makes as it goes (`make(prefix)`) and removes at the end (`removeAll()`). */
export function tempDirs(): { make(prefix: string): string; removeAll(): void } {
  const dirs: string[] = [];
  return {
    make(prefix) {
      const d = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
    removeAll() {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}
