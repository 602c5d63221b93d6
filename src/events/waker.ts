/**
 * A loop's sleep that a nudge ends early. A nudge that arrives while the loop is busy is remembered, so
 * the next wait returns at once: an event flushed during a delivery is never left for the next poll.
 */
export interface Waker {
  wait(ms: number): Promise<void>;
  wake(): void;
}

export function createWaker(): Waker {
  let pending = false;
  let release: (() => void) | undefined;
  return {
    wake() {
      if (release) release();
      else pending = true;
    },
    wait(ms) {
      if (pending) {
        pending = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done(): void {
          clearTimeout(timer);
          release = undefined;
          resolve();
        }
        release = done;
      });
    },
  };
}

/** Rejects with `message` when `p` takes longer than `ms`; the timer never keeps the process alive. */
export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** At most one log line per `everyMs` for a repeating problem, with how many were folded into it. */
export function rateLimited(everyMs: number): (fn: (suppressed: number) => void) => void {
  let last = -Infinity;
  let suppressed = 0;
  return (fn) => {
    const now = Date.now();
    if (now - last < everyMs) {
      suppressed++;
      return;
    }
    last = now;
    fn(suppressed);
    suppressed = 0;
  };
}
