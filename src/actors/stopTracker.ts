/**
 * The stops (ffmpeg processes being reaped) a run's shutdown must wait for. A stop is forgotten once it
 * has settled: a flaky camera reconnects for as long as the run lives, one decoder stop each time.
 */
export interface StopTracker {
  track(stop: Promise<unknown>): void;
  /** Resolves when every stop tracked so far has settled. */
  settled(): Promise<void>;
  readonly pending: number;
}

export function newStopTracker(): StopTracker {
  const pending = new Set<Promise<unknown>>();
  return {
    track(stop) {
      pending.add(stop);
      const forget = () => void pending.delete(stop);
      stop.then(forget, forget);
    },
    async settled() {
      await Promise.allSettled([...pending]);
    },
    get pending() {
      return pending.size;
    },
  };
}
