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
 * replace older ones there, dropped and counted), runs the stage on it and hands it on. A stage with room
 * for more (`Stage.hasRoom`: an idle inference worker) takes the next frame as soon as it comes, beside
 * the one in work: one stream can then use every worker when a detection takes longer than a frame period
 * (measured at 720p25 on a slow host: 40 ms a detection, one stream could not hold 25 fps). Frames are
 * handed on in the order they came, whichever finishes first. A stage that throws fails the run
 * (stage.failed): the same frame would fail again, so there is nothing to retry.
 */
export function createStageActor(wire: () => StageWiring) {
  return fromCallback<EventObject>(({ sendBack }) => {
    let stopped = false;
    let failed = false;
    // Wired when the actor starts: the stages are built once the model is loaded (the run's `starting`).
    const { stage, input, output } = wire();
    const run = createStageRunner(stage);
    /** Frames in the stage, oldest first: each settles to the frame, or undefined when the stage threw. */
    const inWork: Promise<FrameRecord | undefined>[] = [];
    let handingOn: Promise<void> = Promise.resolve();

    const fail = (err: unknown): undefined => {
      if (!stopped && !failed) {
        failed = true;
        sendBack({ type: 'stage.failed', error: toRunError(err, { stage: stage.name, final: true }) } satisfies RunEvent);
      }
      return undefined;
    };
    /** Hands finished frames on, oldest first, so a later frame never overtakes an earlier one. */
    const handOn = async (): Promise<void> => {
      while (inWork.length > 0) {
        const frame = await inWork[0];
        inWork.shift();
        if (stopped || failed) return;
        if (frame) output.push(frame);
      }
    };

    void (async () => {
      for (;;) {
        // A further frame only while the stage has room for it; else wait for the oldest to be handed on.
        while (inWork.length > 0 && !stage.hasRoom?.()) {
          // handOn awaits the same frame and was waiting first: it has shifted it when this goes on.
          await inWork[0];
          if (stopped || failed) return;
        }
        const frame = await input.take();
        if (stopped || failed) return;
        // The input ended (a file source drained, see the run's `draining`): so does the output, once the
        // frames in work are handed on.
        if (!frame) {
          await handingOn;
          if (!stopped && !failed) output.close();
          return;
        }
        inWork.push(run(frame).then(() => frame, fail));
        if (inWork.length === 1) handingOn = handOn();
      }
    })();
    return () => {
      stopped = true;
    };
  });
}
