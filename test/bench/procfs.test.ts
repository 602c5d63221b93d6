import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpuMsWithReaped, descendants, fdCount, parentFromStat, reapedChildrenCpuMs, rssKb, treeCpuMs, treeRssKb } from '../../src/bench/procfs.js';

/** The soak's view of a process, read from the real /proc of processes started here. */

const started: ChildProcess[] = [];

async function execd(pid: number, comm: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${pid} never became ${comm}`);
}
afterEach(() => {
  for (const c of started.splice(0)) c.kill('SIGKILL');
});

describe('procfs', () => {
  it('reads the parent pid even when the command name has spaces and parentheses', () => {
    expect(parentFromStat('1234 (a b) c)) S 42 1234 1234 0 -1')).toBe(42);
    expect(parentFromStat('garbage')).toBeUndefined();
  });

  it('counts a process tree: children and grandchildren', async () => {
    // sh → two sleeps, one of them under another sh: three descendants.
    const sh = spawn('sh', ['-c', 'sleep 30 & sh -c "sleep 30; :" & wait'], { stdio: 'ignore' });
    started.push(sh);
    let found: number[] = [];
    for (let i = 0; i < 100 && found.length < 3; i++) {
      await new Promise((r) => setTimeout(r, 50));
      found = descendants(sh.pid!);
    }
    expect(found).toHaveLength(3);
    for (const pid of found) process.kill(pid, 'SIGKILL');
  });

  it('reads RSS and open fds, and undefined for a process that is gone', async () => {
    expect(rssKb(process.pid)).toBeGreaterThan(10_000);
    // Two children alike but for two extra pipes (descriptors this process leaks to children count in both).
    const three = spawn('sleep', ['30'], { stdio: ['ignore', 'ignore', 'ignore'] });
    const five = spawn('sleep', ['30'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
    started.push(three, five);
    // Until exec, the child is a copy of us with libuv's spawn pipe still open.
    await Promise.all([three, five].map((c) => execd(c.pid!, 'sleep')));
    expect(fdCount(three.pid!)).toBeGreaterThanOrEqual(3);
    expect(fdCount(five.pid!)! - fdCount(three.pid!)!).toBe(2);
    expect(rssKb(five.pid!)).toBeGreaterThan(0);
    const gone = spawn('true');
    await new Promise((r) => gone.once('exit', r));
    expect(rssKb(gone.pid!)).toBeUndefined();
    expect(fdCount(gone.pid!)).toBeUndefined();
  });

  it('CPU time of a tree moves into the parent once a child exits and is reaped: none is lost, none counted twice', async () => {
    // A fixed amount of work (not a duration): the same CPU whatever else the machine is doing.
    const busy = spawn('sh', ['-c', 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done'], { stdio: 'ignore' });
    started.push(busy);
    const before = reapedChildrenCpuMs();
    let lastReading = 0;
    const exited = new Promise((r) => busy.once('exit', r));
    let done = false;
    void exited.then(() => (done = true));
    while (!done) {
      lastReading = Math.max(lastReading, treeCpuMs(busy.pid!));
      await new Promise((r) => setTimeout(r, 20));
    }
    const reaped = reapedChildrenCpuMs() - before;
    expect(lastReading).toBeGreaterThan(0);
    // Everything the child was seen to use is in our cutime now (one clock tick of rounding either way).
    expect(reaped).toBeGreaterThanOrEqual(lastReading - 10);
    expect(cpuMsWithReaped(busy.pid!)).toBeUndefined();
    expect(cpuMsWithReaped('self')).toBeGreaterThanOrEqual(reaped);
  });

  it('sums RSS over a tree', async () => {
    const sh = spawn('sh', ['-c', 'sleep 30 & wait'], { stdio: 'ignore' });
    started.push(sh);
    let kids: number[] = [];
    for (let i = 0; i < 100 && kids.length < 1; i++) {
      await new Promise((r) => setTimeout(r, 50));
      kids = descendants(sh.pid!);
    }
    await execd(kids[0]!, 'sleep');
    expect(treeRssKb(sh.pid!)).toBe((rssKb(sh.pid!) ?? 0) + (rssKb(kids[0]!) ?? 0));
    process.kill(kids[0]!, 'SIGKILL');
  });
});
