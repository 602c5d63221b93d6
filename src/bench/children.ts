import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { descendants } from './procfs.js';

/** The compiled CLI beside this module (dist/cli/main.js): the soak starts real `sie` processes. */
export const SIE_MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** Every Child not yet exited: what a hard stop (killAllChildren) must not leave behind. */
const live = new Set<Child>();

/**
 * SIGKILL, at once, to every living Child's process group and to each of their descendants (found
 * before any is killed: an orphan is reparented and no longer found under its old parent). For a second
 * Ctrl-C: the children sit in process groups of their own, so the terminal's signal never reaches them,
 * and a soak killed alone would leave the engine, cameras and readers running. Returns how many children were alive.
 */
export function killAllChildren(): number {
  const children = [...live];
  const pids = new Set(children.flatMap((c) => [...descendants(c.pid), c.pid]));
  for (const c of children) {
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  }
  killPids(pids);
  return children.length;
}

/** SIGKILL to each pid; one already gone is no error. */
function killPids(pids: Iterable<number>): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A child process with its output lines kept (the last few) and a way to wait for one. */
export class Child {
  readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly tail: string[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(
    cmd: string,
    args: string[],
    opts: { env?: NodeJS.ProcessEnv; onLine?: (line: string) => void; keep?: number } = {},
  ) {
    // A process group of its own: Ctrl-C on the soak must not reach the engine and the cameras directly
    // (the soak stops them itself, in order, and would otherwise take the engine's exit for a crash).
    this.proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env }, detached: true });
    if (this.proc.pid !== undefined) live.add(this);
    const keep = opts.keep ?? 40;
    const onLine = (line: string) => {
      this.tail.push(line);
      if (this.tail.length > keep) this.tail.shift();
      opts.onLine?.(line);
      this.waiters.forEach((w) => w());
    };
    createInterface({ input: this.proc.stdout! }).on('line', onLine);
    createInterface({ input: this.proc.stderr! }).on('line', onLine);
    this.exited = new Promise((resolve) =>
      this.proc.once('exit', (code, signal) => {
        live.delete(this);
        resolve({ code, signal });
        this.waiters.forEach((w) => w());
      }),
    );
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  recent(): string {
    return this.tail.join('\n');
  }

  /** Resolves with the first line matching `pattern` from now on (or already in the tail). */
  waitForLine(pattern: RegExp, timeoutMs: number, what: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.tail.find((l) => pattern.test(l));
        if (hit !== undefined) done(() => resolve(hit));
        else if (!this.alive) done(() => reject(new Error(`${what} exited before it was ready:\n${this.recent()}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`${what} not ready after ${timeoutMs} ms:\n${this.recent()}`))), timeoutMs);
      const done = (f: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        f();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.alive) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.killTree(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /**
   * SIGKILL to the process and every descendant, by pid: what a camera losing power looks like, and no
   * orphaned ffmpeg is left encoding for nobody.
   */
  killTree(): void {
    killPids([...descendants(this.pid), this.pid]);
  }
}

/** A TCP port free right now on 127.0.0.1 (chosen by the kernel). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
