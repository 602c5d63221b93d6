import { describe, expect, it } from 'vitest';
import { FramePool } from '../../src/pipeline/framePool.js';

describe('frame pool', () => {
  it('hands released buffers out again, in shared memory, and allocates only what is in flight', () => {
    const pool = new FramePool(4);
    const a = pool.acquire(100);
    const b = pool.acquire(100);
    expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
    pool.release(a);
    expect(pool.acquire(100)).toBe(a);
    pool.release(b);
    pool.release(a);
    for (let i = 0; i < 50; i++) pool.release(pool.acquire(100));
    expect(pool.allocated).toBe(2);
    expect(pool.reused).toBe(51);
  });

  it('keeps at most maxFree, and forgets buffers of another size', () => {
    const pool = new FramePool(2);
    const bufs = [1, 2, 3].map(() => pool.acquire(10));
    for (const b of bufs) pool.release(b);
    expect(pool.freeCount).toBe(2);
    const other = pool.acquire(20);
    expect(pool.freeCount).toBe(0);
    pool.release(bufs[0]!); // the old size: not taken back
    expect(pool.freeCount).toBe(0);
    pool.release(other);
    expect(pool.acquire(20)).toBe(other);
  });
});
