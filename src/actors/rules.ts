import { fromCallback, type EventObject } from 'xstate';
import type { RunPipes } from './resources.js';

/**
 * The per-run short-term memory the rules need (tracks, timers, counters). It outlives reconnects of the
 * source because it belongs to the run, not to the decoder. The rules issue fills in tracks and rules;
 * for now it records the time line so the history is already owned here.
 */
export interface RulesHistory {
  framesSeen: number;
  lastPtsS: number | undefined;
}

export function newRulesHistory(): RulesHistory {
  return { framesSeen: 0, lastPtsS: undefined };
}

/** inferred → rules → ruled. Detections pass through unchanged for now. */
export function createRulesActor(deps: { pipes: RunPipes; history: RulesHistory }) {
  return fromCallback<EventObject>(() => {
    let stopped = false;
    void (async () => {
      for (;;) {
        const frame = await deps.pipes.inferred.take();
        if (!frame || stopped) return;
        const t0 = performance.now();
        deps.history.framesSeen++;
        deps.history.lastPtsS = frame.ptsS;
        frame.times.rulesMs = performance.now() - t0;
        deps.pipes.ruled.push(frame);
      }
    })();
    return () => {
      stopped = true;
    };
  });
}
