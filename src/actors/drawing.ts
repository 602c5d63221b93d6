import { fromCallback, type EventObject } from 'xstate';
import { createBoxAnnotator, type BoxAnnotator } from '../drawing/boxAnnotator.js';
import { coerceError } from '../errors.js';
import type { RunEvent } from '../machines/run.machine.js';
import type { RunPipes, RunStats } from './resources.js';

/**
 * ruled → draw into the frame's own pixels → drawn. The annotator (glyph atlas, colours, line widths for
 * this resolution) is built once, on the first frame, when the size is known.
 */
export function createDrawingActor(deps: { pipes: RunPipes; stats: RunStats; labels: () => readonly string[] }) {
  return fromCallback<EventObject>(({ sendBack }) => {
    let stopped = false;
    void (async () => {
      let annotator: BoxAnnotator | undefined;
      for (;;) {
        const frame = await deps.pipes.ruled.take();
        if (!frame || stopped) return;
        try {
          annotator ??= await createBoxAnnotator({ width: frame.width, height: frame.height, labels: [...deps.labels()] });
          const t0 = performance.now();
          if (frame.detections) annotator.draw(frame, frame.detections);
          frame.times.drawMs = performance.now() - t0;
        } catch (err) {
          if (stopped) return;
          const e = coerceError(err);
          sendBack({ type: 'stage.failed', error: { kind: e.kind, message: `drawing: ${e.message}`, retryable: false } } satisfies RunEvent);
          return;
        }
        deps.stats.framesDrawn++;
        deps.pipes.drawn.push(frame);
      }
    })();
    return () => {
      stopped = true;
    };
  });
}
