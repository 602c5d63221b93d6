import { fromCallback, type EventObject } from 'xstate';
import { createSceneRenderer, type SceneRenderer } from '../drawing/scene.js';
import { coerceError, toRunError } from '../errors.js';
import type { RunEvent } from '../machines/run.machine.js';
import type { LiveConfig } from './liveConfig.js';
import { overlayFromRules } from './overlay.js';
import type { RunPipes, RunStats, SourceState } from './resources.js';

export interface DrawingActorDeps {
  pipes: RunPipes;
  stats: RunStats;
  config: LiveConfig;
  sourceState: SourceState;
  labels(): readonly string[];
  /** Shown in the header. */
  title: string;
}

/**
 * ruled → draw into the frame's own pixels → drawn. The renderer (glyph atlases, colours, line widths for
 * this resolution) is built on the first frame and rebuilt when the config's drawing section changes.
 */
export function createDrawingActor(deps: DrawingActorDeps) {
  return fromCallback<EventObject>(({ sendBack }) => {
    let stopped = false;
    void (async () => {
      let scene: SceneRenderer | undefined;
      let sceneVersion = -1;
      for (;;) {
        const frame = await deps.pipes.ruled.take();
        if (!frame || stopped) return;
        try {
          // The config the rules applied to this frame; the live one only for a frame that skipped the rules stage.
          const { body, version } = frame.config ?? deps.config;
          if (!scene || sceneVersion !== version) {
            scene = await createSceneRenderer({ width: frame.width, height: frame.height, labels: deps.labels(), style: body.drawing });
            sceneVersion = version;
          }
          const t0 = performance.now();
          const overlay = overlayFromRules(body.rules, frame.counters, frame.width, frame.height);
          scene.draw(frame, {
            detections: frame.detections,
            zones: overlay.zones,
            lines: overlay.lines,
            highlighted: frame.triggered,
            header: { title: deps.title, ptsS: frame.ptsS, fps: deps.sourceState.info?.fps },
          });
          frame.times.drawMs = performance.now() - t0;
        } catch (err) {
          if (stopped) return;
          const e = coerceError(err);
          sendBack({ type: 'stage.failed', error: toRunError(e, { stage: 'drawing', final: true }) } satisfies RunEvent);
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
