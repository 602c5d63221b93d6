import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Child, killAllChildren } from '../../src/bench/children.js';
import { descendants } from '../../src/bench/procfs.js';
import { stopOnSignals } from '../../src/cli/bench.js';
import { dropBenchDatabase } from '../../src/bench/benchSetup.js';
import { until } from '../helpers/processes.js';

/** Alive and not a zombie (an orphan's zombie may wait a while for whoever reaps it). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const spawned: Child[] = [];
afterAll(() => {
  for (const c of spawned) c.killTree();
});

describe("the soak's Ctrl-C", () => {
  it('the first signal ends the soak early; a second kills every child tree at once and exits, saying the database stays', async () => {
    // Stand-ins for the engine and a camera: each in its own process group (as the soak's children are),
    // each with children of its own (as the engine's ffmpegs are).
    for (let i = 0; i < 2; i++) spawned.push(new Child('sh', ['-c', 'sleep 300 & sleep 300 & wait']));
    await until(() => spawned.every((c) => descendants(c.pid).length >= 2), 15_000, 'both shells started their sleeps');
    const pids = spawned.flatMap((c) => [c.pid, ...descendants(c.pid)]);
    expect(pids.length).toBeGreaterThanOrEqual(6);

    const signals = new EventEmitter();
    const abort = new AbortController();
    const lines: string[] = [];
    const exits: number[] = [];
    const uninstall = stopOnSignals(abort, { killAll: killAllChildren, write: (t) => lines.push(t), exit: (c) => exits.push(c) }, signals);
    try {
      signals.emit('SIGINT', 'SIGINT');
      expect(abort.signal.aborted).toBe(true);
      expect(exits).toEqual([]);
      expect(pids.every(running), 'the first Ctrl-C leaves the stopping to the soak').toBe(true);

      // With process.once the handler was gone by now: this second one did nothing here, and in the real
      // CLI Node's default killed the soak alone, orphaning everything below.
      signals.emit('SIGINT', 'SIGINT');
      expect(exits).toEqual([130]);
      expect(lines.at(-1)).toMatch(/^bench: SIGINT again: killed 2 child process group\(s\) with SIGKILL/);
      expect(lines.at(-1)).toMatch(/database .*NOT dropped/);
      await until(() => !pids.some(running), 15_000, 'every child and grandchild is gone');
    } finally {
      uninstall();
    }
    expect(signals.listenerCount('SIGINT') + signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('SIGTERM twice exits with 143', () => {
    const signals = new EventEmitter();
    const exits: number[] = [];
    const uninstall = stopOnSignals(new AbortController(), { killAll: () => 0, write: () => undefined, exit: (c) => exits.push(c) }, signals);
    signals.emit('SIGTERM', 'SIGTERM');
    signals.emit('SIGTERM', 'SIGTERM');
    uninstall();
    expect(exits).toEqual([143]);
  });
});

describe("the soak's database", () => {
  it('a failed drop is reported by the database name, never by its URL (which holds the password)', async () => {
    const lines: string[] = [];
    const db = {
      url: 'postgres://sie:hunter2secret@db.example:5432/sie_soak_0123456789',
      name: 'sie_soak_0123456789',
      drop: () => Promise.reject(new Error('connect ECONNREFUSED for postgres://sie:hunter2secret@db.example:5432/postgres')),
    };
    await dropBenchDatabase(db, (t) => lines.push(t));
    expect(lines.join('')).toMatch(/^bench: could not drop database sie_soak_0123456789: /);
    expect(lines.join('')).not.toContain('hunter2secret');
  });
});
