import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { redactSecrets } from '../../redact.js';
import type { Logger } from '../../log.js';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Every child we start, so a shutdown can prove none is left behind. */
const live = new Set<ManagedProcess<Readable | null>>();

export function liveProcessCount(): number {
  return live.size;
}

/** Stop every child still running (process exit paths). */
export async function stopAllProcesses(graceMs = 2000): Promise<void> {
  await Promise.all([...live].map((p) => p.stop(graceMs)));
}

export interface ManagedProcessOptions {
  secrets?: readonly string[];
  logger?: Logger;
  ringLines?: number;
  onStderrLine?: (line: string) => void;
}

/**
 * `stdout` given: the child writes to that socket instead of a pipe we read (see frameSocket.ts), and
 * `child.stdout` is null. The caller closes its own copy of the socket once the child is spawned.
 */
type OptionsFor<Stdout> = ManagedProcessOptions & (Stdout extends null ? { stdout: Socket } : { stdout?: undefined });

/**
 * A child process with the habits a long-running media pipeline needs: stderr kept as a ring of recent
 * lines (redacted: ffmpeg echoes URLs) to dump when it dies, and stop() = close stdin, SIGTERM, then SIGKILL
 * after a grace period, resolving only once the process is really gone (reaped).
 */
export class ManagedProcess<Stdout extends Readable | null = Readable> {
  readonly child: ChildProcessByStdio<Writable, Stdout, Readable>;
  readonly exited: Promise<ProcessExit>;
  private readonly stderrRing: string[] = [];
  private partialLine = '';
  private exitInfo: ProcessExit | undefined;
  private stopping: Promise<ProcessExit> | undefined;

  constructor(
    readonly command: string,
    readonly args: readonly string[],
    private readonly opts: OptionsFor<Stdout> = {} as OptionsFor<Stdout>,
  ) {
    this.child = spawn(command, args, { stdio: ['pipe', opts.stdout ?? 'pipe', 'pipe'] }) as ChildProcessByStdio<Writable, Stdout, Readable>;
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        live.delete(this);
        resolve(this.exitInfo);
      });
      this.child.once('error', (err) => {
        // spawn failure (ENOENT): there will be no 'exit'
        this.pushLine(`spawn error: ${err.message}`);
        if (!this.exitInfo) {
          this.exitInfo = { code: -1, signal: null };
          live.delete(this);
          resolve(this.exitInfo);
        }
      });
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => this.onStderr(chunk));
    // Writes to a dying process's stdin raise EPIPE asynchronously: expected, not a crash.
    this.child.stdin.on('error', () => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** The last stderr lines, already redacted. */
  recentStderr(): string[] {
    return [...this.stderrRing];
  }

  private onStderr(chunk: string): void {
    const text = this.partialLine + chunk;
    const lines = text.split(/\r?\n|\r/);
    this.partialLine = lines.pop() ?? '';
    for (const raw of lines) {
      if (raw.length > 0) this.pushLine(raw);
    }
  }

  private pushLine(raw: string): void {
    const line = redactSecrets(raw, this.opts.secrets ?? []);
    this.stderrRing.push(line);
    if (this.stderrRing.length > (this.opts.ringLines ?? 40)) this.stderrRing.shift();
    this.opts.onStderrLine?.(line);
  }

  /** Terminate → grace → kill. Idempotent; resolves when the process has exited. */
  stop(graceMs = 2000): Promise<ProcessExit> {
    if (this.exitInfo) return Promise.resolve(this.exitInfo);
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      this.child.stdin.destroy();
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      const exit = await this.exited;
      clearTimeout(timer);
      return exit;
    })();
    return this.stopping;
  }
}
