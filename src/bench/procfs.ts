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
