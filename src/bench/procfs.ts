import { readFileSync, readdirSync } from 'node:fs';

/**
 * What the soak watches of a process, read from Linux's /proc (no dependency, no sampling overhead worth
 * mentioning). Every reader returns undefined for a process that is gone, rather than throwing: the
 * soak samples processes that may die between two reads.
 */

/** Resident set size in kB (`VmRSS` of /proc/<pid>/status). */
export function rssKb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Open file descriptors (entries of /proc/<pid>/fd). */
export function fdCount(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** The parent pid from a /proc/<pid>/stat line; the command name in parentheses may contain spaces. */
export function parentFromStat(stat: string): number | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = stat.slice(close + 2).split(' ');
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

/** Every living process's parent, from one pass over /proc. */
function parentMap(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const ppid = parentFromStat(readFileSync(`/proc/${name}/stat`, 'utf8'));
      if (ppid !== undefined) parents.set(Number(name), ppid);
    } catch {
      // exited while we looked
    }
  }
  return parents;
}

/** The pids of all descendants of `pid` (children, their children, …). */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const [child, parent] of parentMap()) {
    const list = children.get(parent) ?? [];
    list.push(child);
    children.set(parent, list);
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    for (const c of children.get(todo.pop()!) ?? []) {
      out.push(c);
      todo.push(c);
    }
  }
  return out;
}

/** Kernel clock ticks per second, the unit of /proc's CPU times (USER_HZ: 100 on every Linux we run on). */
const TICKS_PER_S = 100;

/** The fields of /proc/<pid>/stat after the command name (fields[0] is the state, field 3 of proc(5)). */
function statFields(pid: number | 'self'): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** utime, stime, cutime, cstime: fields 14 to 17 of proc(5). */
const UTIME = 11;
const CUTIME = 13;

function ticksToMs(fields: string[], from: number, to: number): number | undefined {
  let ticks = 0;
  for (let i = from; i <= to; i++) ticks += Number(fields[i]);
  return Number.isFinite(ticks) ? (ticks * 1000) / TICKS_PER_S : undefined;
}

/**
 * CPU time of a process, in ms: its own (utime + stime, all its threads) plus that of its children it
 * has reaped (cutime + cstime). Counting both keeps a tree's total right when a child exits between two
 * readings: its time moves from the child into its parent's cutime.
 */
export function cpuMsWithReaped(pid: number | 'self'): number | undefined {
  const f = statFields(pid);
  return f && ticksToMs(f, UTIME, UTIME + 3);
}

/** CPU ms used so far by this process's reaped children (cutime + cstime): what a finished child cost. */
export function reapedChildrenCpuMs(): number {
  const f = statFields('self');
  return (f && ticksToMs(f, CUTIME, CUTIME + 1)) ?? 0;
}

/** CPU ms of a process and all its living descendants, each with its reaped children (see cpuMsWithReaped). */
export function treeCpuMs(pid: number): number {
  return [pid, ...descendants(pid)].reduce((sum, p) => sum + (cpuMsWithReaped(p) ?? 0), 0);
}

/** Resident memory of a process and all its living descendants, kB. */
export function treeRssKb(pid: number): number {
  return [pid, ...descendants(pid)].reduce((sum, p) => sum + (rssKb(p) ?? 0), 0);
}
