import { fromCallback, type EventObject } from 'xstate';
import { createStageRunner, type Stage } from '../pipeline/stage.js';
import type { DropOldestQueue } from '../queue.js';
import type { FrameRecord } from '../frame.js';
import type { RunEvent } from '../machines/run.machine.js';
import { toRunError } from '../errors.js';

export interface StageWiring {
  /** The run's stage: it outlives the actor, its state belongs to the run. */
  stage: Stage;
  input: DropOldestQueue<FrameRecord>;
  output: DropOldestQueue<FrameRecord>;
}

/**
 * Drives one stage in a live run: takes the oldest frame of its input queue (while it works, newer frames
 * replace older ones there, dropped and counted), runs the stage on it and hands it on. A stage that throws
 * fails the run (stage.failed): the same frame would fail again, so there is nothing to retry.
 */
export function createStageActor(wire: () => StageWiring) {
  return fromCallback<EventObject>(({ sendBack }) => {
    let stopped = false;
    // Wired when the actor starts: the stages are built once the model is loaded (the run's `starting`).
    const { stage, input, output } = wire();
    const run = createStageRunner(stage);
    void (async () => {
      for (;;) {
        const frame = await input.take();
        if (stopped) return;
        // The input ended (a file source drained, see the run's `draining`): so does the output.
        if (!frame) return output.close();
        try {
          await run(frame);
        } catch (err) {
          if (stopped) return;
          sendBack({ type: 'stage.failed', error: toRunError(err, { stage: stage.name, final: true }) } satisfies RunEvent);
          return;
        }
        if (stopped) return;
        output.push(frame);
      }
    })();
    return () => {
      stopped = true;
    };
  });
}
