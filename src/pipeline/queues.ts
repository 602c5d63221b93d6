import { DropOldestQueue } from '../queue.js';
import type { FrameRecord } from '../frame.js';
import type { DropPoint, RunStore } from './runStore.js';

/**
 * A live run's bounded queues, each named by what it feeds: `inference` holds decoded frames, `output`
 * drawn ones. Two slots each: enough to overlap a stage with the next, never enough to build latency.
 * Every drop is counted where it happens. (A replay has none: it drops nothing.)
 */
export type RunQueues = Record<DropPoint, DropOldestQueue<FrameRecord>>;

export function newRunQueues(store: RunStore, capacity = 2): RunQueues {
  const queue = (before: DropPoint) => new DropOldestQueue<FrameRecord>(capacity, () => store.trigger.frameDropped({ before }));
  return { inference: queue('inference'), rules: queue('rules'), drawing: queue('drawing'), output: queue('output') };
}

export function closeRunQueues(q: RunQueues): void {
  for (const queue of Object.values(q)) queue.close();
}
