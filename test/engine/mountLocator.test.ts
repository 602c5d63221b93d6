import { describe, expect, it } from 'vitest';
import { boundedLocator } from '../../src/engine/mountLocator.js';

/** A lookup that answers when told to, counting its calls (the database behind it). */
function lookup(answer: (path: string) => string | undefined) {
  const calls: string[] = [];
  const waiting: (() => void)[] = [];
  const fn = (path: string) => {
    calls.push(path);
    return new Promise<string | undefined>((resolve) => waiting.push(() => resolve(answer(path))));
  };
  return { fn, calls, answerAll: () => waiting.splice(0).forEach((w) => w()) };
}

describe('boundedLocator', () => {
  it('one query for concurrent lookups of a mount, and its answer reused until the TTL ends', async () => {
    let t = 0;
    const db = lookup((p) => (p === 'cam1' ? 'rtsp://other:8554/cam1' : undefined));
    const locate = boundedLocator(db.fn, { ttlMs: 1000, now: () => t });
    const a = locate('cam1');
    const b = locate('cam1');
    db.answerAll();
    expect(await Promise.all([a, b])).toEqual(['rtsp://other:8554/cam1', 'rtsp://other:8554/cam1']);
    t = 999;
    expect(await locate('cam1')).toBe('rtsp://other:8554/cam1');
    // "Nowhere" is an answer too.
    const c = locate('gone');
    db.answerAll();
    expect(await c).toBeUndefined();
    expect(await locate('gone')).toBeUndefined();
    expect(db.calls).toEqual(['cam1', 'gone']);
    t = 1000;
    const d = locate('cam1');
    db.answerAll();
    await d;
    expect(db.calls).toEqual(['cam1', 'gone', 'cam1']);
  });

  it('past maxInFlight lookups at once the answer is "nowhere" without a query', async () => {
    const db = lookup(() => 'rtsp://x/y');
    const locate = boundedLocator(db.fn, { maxInFlight: 2 });
    const first = [locate('a'), locate('b')];
    expect(await locate('c')).toBeUndefined();
    expect(db.calls).toEqual(['a', 'b']);
    db.answerAll();
    await Promise.all(first);
    const again = locate('c');
    db.answerAll();
    expect(await again).toBe('rtsp://x/y');
  });

  it('remembers at most maxEntries mounts, forgetting the oldest answer first', async () => {
    const db = lookup((p) => `rtsp://x/${p}`);
    const locate = boundedLocator(db.fn, { maxEntries: 2 });
    for (const p of ['a', 'b', 'c']) {
      const r = locate(p);
      db.answerAll();
      await r;
    }
    const r = locate('a');
    db.answerAll();
    await r;
    expect(await locate('c')).toBe('rtsp://x/c');
    expect(db.calls).toEqual(['a', 'b', 'c', 'a']);
  });

  it('a failed lookup is not remembered', async () => {
    let fail = true;
    let calls = 0;
    const locate = boundedLocator(async () => {
      calls++;
      if (fail) throw new Error('database away');
      return 'rtsp://x/y';
    });
    await expect(locate('a')).rejects.toThrow('database away');
    fail = false;
    expect(await locate('a')).toBe('rtsp://x/y');
    expect(calls).toBe(2);
  });
});
