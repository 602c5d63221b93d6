import { treeCpuMs, treeRssKb } from './procfs.js';

interface Reading {
  atMs: number;
  cpuMs: number;
}

/**
 * Watches one process tree (a process and its living descendants) from outside: CPU time and resident
 * memory every `everyMs`, read from /proc. CPU over any interval inside the watch is interpolated
 * between two readings, so a command's own start-up (loading a model, starting workers) can be left out
 * of its per-frame cost when the command says how long its work took.
 */
export class ProcessMeter {
  private readonly readings: Reading[] = [];
  private timer: NodeJS.Timeout | undefined;
  peakRssKb = 0;

  constructor(
    private readonly pid: number,
    everyMs = 100,
  ) {
    this.read();
    this.timer = setInterval(() => this.read(), everyMs);
  }

  /** Takes a reading now (e.g. the moment the command said it was done); the tree may be gone. */
  read(): void {
    const cpuMs = treeCpuMs(this.pid);
    // A tree that has exited reads 0: keep the last real reading as the end of the watch.
    if (cpuMs === 0 && this.readings.length > 0) return;
    this.readings.push({ atMs: performance.now(), cpuMs });
    this.peakRssKb = Math.max(this.peakRssKb, treeRssKb(this.pid));
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The tree's CPU ms at `atMs` (performance.now() time), interpolated between the readings around it. */
  cpuAt(atMs: number): number {
    const r = this.readings;
    if (r.length === 0) return 0;
    if (atMs <= r[0]!.atMs) return r[0]!.cpuMs;
    for (let i = 1; i < r.length; i++) {
      const b = r[i]!;
      if (atMs <= b.atMs) {
        const a = r[i - 1]!;
        return a.cpuMs + ((b.cpuMs - a.cpuMs) * (atMs - a.atMs)) / Math.max(1e-9, b.atMs - a.atMs);
      }
    }
    return r.at(-1)!.cpuMs;
  }
}
