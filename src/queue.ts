/**
 * A bounded queue between two pipeline stages. When full, the OLDEST item is dropped and counted:
 * a live pipeline that falls behind must lose old frames, never build latency (users' complaint #5).
 * One consumer awaits `take()`; producers never wait.
 */
export class DropOldestQueue<T> {
  private readonly items: T[] = [];
  private waiter: ((v: T | undefined) => void) | undefined;
  private closed = false;
  private drainWaiters: (() => void)[] = [];
  private pushListener: (() => void) | undefined;
  dropped = 0;
  pushed = 0;

  constructor(
    readonly capacity: number,
    private readonly onDrop?: (item: T) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be ≥ 1, got ${capacity}`);
  }

  get length(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.closed) {
      this.onDrop?.(item);
      return;
    }
    this.pushed++;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(item);
      return;
    }
    if (this.items.length >= this.capacity) {
      const old = this.items.shift() as T;
      this.dropped++;
      this.onDrop?.(old);
    }
    this.items.push(item);
    this.pushListener?.();
  }

  /** Called after each item that stays in the queue (not one handed straight to a waiting take()): for a
   *  consumer that polls, such as the output clock. One listener; undefined removes it. */
  onPushed(listener: (() => void) | undefined): void {
    this.pushListener = listener;
  }

  /** The next item, or undefined once the queue is closed and empty. */
  take(): Promise<T | undefined> {
    const item = this.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.closed) return Promise.resolve(undefined);
    if (this.waiter) throw new Error('DropOldestQueue supports one consumer at a time');
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Non-blocking: the oldest item, if any. */
  poll(): T | undefined {
    return this.shift();
  }

  /** Resolves once the queue is closed and its last item has been taken (a file source's end, drained). */
  drained(): Promise<void> {
    if (this.closed && this.items.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private shift(): T | undefined {
    const item = this.items.shift();
    if (this.closed && this.items.length === 0) this.notifyDrained();
    return item;
  }

  private notifyDrained(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  /** Non-blocking: the newest item, dropping (and counting) everything older. */
  takeNewest(): T | undefined {
    const newest = this.items.pop();
    for (const old of this.items) {
      this.dropped++;
      this.onDrop?.(old);
    }
    this.items.length = 0;
    if (this.closed) this.notifyDrained();
    return newest;
  }

  close(): void {
    this.closed = true;
    if (this.items.length === 0) this.notifyDrained();
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(undefined);
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

/**
 * A bounded queue whose producer waits for room: nothing is ever dropped, a slow consumer slows the
 * producer instead (`sie replay`, where every frame counts and time is the file's). One producer, one consumer.
 */
export class BackpressureQueue<T> {
  private readonly items: T[] = [];
  private taker: ((v: T | undefined) => void) | undefined;
  private pusher: (() => void) | undefined;
  private closed = false;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be ≥ 1, got ${capacity}`);
  }

  get length(): number {
    return this.items.length;
  }

  /** Resolves once the item is queued (at once while there is room). After close() the item is discarded. */
  async push(item: T): Promise<void> {
    while (!this.closed && this.items.length >= this.capacity) await new Promise<void>((r) => (this.pusher = r));
    if (this.closed) return;
    const t = this.taker;
    if (t) {
      this.taker = undefined;
      t(item);
    } else this.items.push(item);
  }

  /** The next item, or undefined once the queue is closed and empty. */
  take(): Promise<T | undefined> {
    if (this.items.length > 0) {
      const item = this.items.shift() as T;
      this.wakePusher();
      return Promise.resolve(item);
    }
    if (this.closed) return Promise.resolve(undefined);
    if (this.taker) throw new Error('BackpressureQueue supports one consumer at a time');
    return new Promise((resolve) => (this.taker = resolve));
  }

  /** No more items: the consumer gets what is queued, then undefined. */
  close(): void {
    this.closed = true;
    this.taker?.(undefined);
    this.taker = undefined;
    this.wakePusher();
  }

  /** Gives up: what is queued is discarded, both sides are released. */
  abort(): void {
    this.items.length = 0;
    this.close();
  }

  private wakePusher(): void {
    const p = this.pusher;
    this.pusher = undefined;
    p?.();
  }
}
