import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BackpressureQueue, DropOldestQueue } from '../../src/queue.js';

/** The bounded queue between pipeline stages: full = the oldest goes (counted), never a wait, never growth. */
describe('DropOldestQueue', () => {
  it('refuses a capacity that is not a positive integer', () => {
    for (const c of [0, -1, 1.5, Number.NaN]) expect(() => new DropOldestQueue(c)).toThrow(RangeError);
  });

  it('when full, drops the oldest item, counts it and hands it to onDrop', () => {
    const dropped: number[] = [];
    const q = new DropOldestQueue<number>(2, (x) => dropped.push(x));
    for (const x of [1, 2, 3, 4]) q.push(x);
    expect(q.length).toBe(2);
    expect(q.dropped).toBe(2);
    expect(q.pushed).toBe(4);
    expect(dropped).toEqual([1, 2]);
    expect([q.poll(), q.poll(), q.poll()]).toEqual([3, 4, undefined]);
  });

  it('a waiting consumer gets the next item directly; close() wakes it with undefined', async () => {
    const q = new DropOldestQueue<string>(1);
    const first = q.take();
    q.push('a');
    expect(await first).toBe('a');
    expect(q.length).toBe(0);
    const second = q.take();
    expect(() => q.take()).toThrow(/one consumer/);
    q.close();
    expect(await second).toBeUndefined();
  });

  it('after close(): what is queued can still be taken, then undefined; new pushes go straight to onDrop', async () => {
    const dropped: number[] = [];
    const q = new DropOldestQueue<number>(3, (x) => dropped.push(x));
    q.push(1);
    q.close();
    q.push(2);
    expect(dropped).toEqual([2]);
    expect(await q.take()).toBe(1);
    expect(await q.take()).toBeUndefined();
    expect(q.isClosed).toBe(true);
  });

  it('drained() resolves once the queue is closed and its last item taken, not before', async () => {
    const q = new DropOldestQueue<number>(3);
    q.push(1);
    q.push(2);
    let drained = false;
    const done = q.drained().then(() => (drained = true));
    q.close();
    expect(await q.take()).toBe(1);
    await Promise.resolve();
    expect(drained).toBe(false);
    expect(q.poll()).toBe(2);
    await done;
    expect(drained).toBe(true);
    // Already drained: at once.
    await q.drained();
    const empty = new DropOldestQueue<number>(1);
    const emptyDone = empty.drained();
    empty.close();
    await emptyDone;
  });

  it('takeNewest() returns the newest and drops (and counts) everything older', () => {
    const dropped: number[] = [];
    const q = new DropOldestQueue<number>(4, (x) => dropped.push(x));
    for (const x of [1, 2, 3]) q.push(x);
    expect(q.takeNewest()).toBe(3);
    expect(dropped).toEqual([1, 2]);
    expect(q.dropped).toBe(2);
    expect(q.length).toBe(0);
    expect(q.takeNewest()).toBeUndefined();
  });

  type Op = { op: 'push' } | { op: 'poll' } | { op: 'newest' } | { op: 'close' };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.constant({ op: 'push' as const }) },
    { weight: 2, arbitrary: fc.constant({ op: 'poll' as const }) },
    { weight: 1, arbitrary: fc.constant({ op: 'newest' as const }) },
    { weight: 1, arbitrary: fc.constant({ op: 'close' as const }) },
  );

  it('property: never more than capacity, every item taken or dropped exactly once, drops counted, order kept', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(opArb, { maxLength: 200 }), (capacity, ops) => {
        const droppedItems: number[] = [];
        const q = new DropOldestQueue<number>(capacity, (x) => droppedItems.push(x));
        const taken: number[] = [];
        const overflowDrops: number[] = [];
        let newestDrops = 0;
        let refusedAfterClose = 0;
        let next = 0;
        for (const o of ops) {
          const before = droppedItems.length;
          if (o.op === 'push') {
            const wasClosed = q.isClosed;
            q.push(next++);
            if (wasClosed) refusedAfterClose += droppedItems.length - before;
            else overflowDrops.push(...droppedItems.slice(before));
          } else if (o.op === 'poll') {
            const x = q.poll();
            if (x !== undefined) taken.push(x);
          } else if (o.op === 'newest') {
            const x = q.takeNewest();
            newestDrops += droppedItems.length - before;
            if (x !== undefined) taken.push(x);
          } else {
            q.close();
          }
          expect(q.length).toBeLessThanOrEqual(capacity);
        }
        const rest: number[] = [];
        for (let x = q.poll(); x !== undefined; x = q.poll()) rest.push(x);
        // Nothing lost, nothing duplicated: every pushed item is taken, dropped (onDrop) or still queued.
        expect([...taken, ...droppedItems, ...rest].sort((a, b) => a - b)).toEqual([...Array(next).keys()]);
        // Order kept: what comes out comes out in push order.
        const out = [...taken, ...rest];
        expect(out).toEqual([...out].sort((a, b) => a - b));
        // The counter counts every queued item dropped (a push after close is refused, reported to onDrop only).
        expect(q.dropped).toBe(overflowDrops.length + newestDrops);
        expect(droppedItems.length).toBe(overflowDrops.length + newestDrops + refusedAfterClose);
        // Drop-OLDEST: an overflow drops the oldest queued item, so those drops come in push order.
        expect(overflowDrops).toEqual([...overflowDrops].sort((a, b) => a - b));
      }),
      { numRuns: 500, seed: 12 },
    );
  });

  it('property: a stream pushed into a full queue leaves exactly the newest `capacity` items', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 100 }), (capacity, n) => {
        const q = new DropOldestQueue<number>(capacity);
        for (let i = 0; i < n; i++) q.push(i);
        const left: number[] = [];
        for (let x = q.poll(); x !== undefined; x = q.poll()) left.push(x);
        const keep = Math.min(n, capacity);
        expect(left).toEqual([...Array(keep).keys()].map((i) => n - keep + i));
        expect(q.dropped).toBe(n - keep);
        expect(q.pushed).toBe(n);
      }),
      { numRuns: 300, seed: 12 },
    );
  });
});

describe('BackpressureQueue', () => {
  it('makes the producer wait while full and drops nothing; close() hands out the rest, then undefined', async () => {
    const q = new BackpressureQueue<number>(2);
    await q.push(1);
    await q.push(2);
    let third = false;
    const pushing = q.push(3).then(() => (third = true));
    await Promise.resolve();
    expect(third).toBe(false);
    expect(await q.take()).toBe(1);
    await pushing;
    expect(third).toBe(true);
    q.close();
    expect([await q.take(), await q.take(), await q.take()]).toEqual([2, 3, undefined]);
  });

  it('abort() discards what is queued and releases a waiting producer and consumer', async () => {
    const full = new BackpressureQueue<number>(1);
    await full.push(1);
    const blocked = full.push(2);
    full.abort();
    await blocked;
    expect(await full.take()).toBeUndefined();
    const empty = new BackpressureQueue<number>(1);
    const waiting = empty.take();
    empty.abort();
    expect(await waiting).toBeUndefined();
  });
});
