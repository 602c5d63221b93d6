import { DropOldestQueue } from '../queue.js';
import type { FrameRecord } from '../frame.js';
import type { DropPoint, RunStore } from './runStore.js';
import type { FramePool } from './framePool.js';

/**
 * A live run's bounded queues, each named by what it feeds: `inference` holds decoded frames, `output`
 * drawn ones. Two slots each: enough to overlap a stage with the next, never enough to build latency.
 * Every drop is counted where it happens. (A replay has none: it drops nothing.)
 */
export type RunQueues = Record<DropPoint, DropOldestQueue<FrameRecord>>;

/** `pool`: where a dropped frame's pixels go back (nothing reads them any more). `onDropped`: each dropped
 *  frame before its pixels go (its trace ends there, see src/observability/tracing.ts). */
export function newRunQueues(store: RunStore, pool?: FramePool, capacity = 2, onDropped?: (frame: FrameRecord, before: DropPoint) => void): RunQueues {
  const queue = (before: DropPoint) =>
    new DropOldestQueue<FrameRecord>(capacity, (frame) => {
      store.trigger.frameDropped({ before });
      onDropped?.(frame, before);
      pool?.release(frame.pixels);
    });
  return { inference: queue('inference'), rules: queue('rules'), drawing: queue('drawing'), output: queue('output') };
}

export function closeRunQueues(q: RunQueues): void {
  for (const queue of Object.values(q)) queue.close();
}
