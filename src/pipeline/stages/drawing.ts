import { createSceneRenderer, type SceneRenderer } from '../../drawing/scene.js';
import type { FrameRecord } from '../../frame.js';
import type { Stage } from '../stage.js';
import { outputLabels } from '../../inference/classGroups.js';
import type { RunStore } from '../runStore.js';
import { overlayFromRules } from './overlay.js';

export interface DrawingStageOptions {
  store: RunStore;
  /** The model's labels; a config's class groups add to them (outputLabels). */
  labels: readonly string[];
  /** Shown in the header. */
  title: string;
}

/**
 * Draws into the frame's own pixels, with the frame's config. The renderer (glyph atlases, colours, line
 * widths for this resolution) is built for each config version, on its first frame.
 */
export function createDrawingStage(o: DrawingStageOptions): Stage {
  let scene: SceneRenderer | undefined;
  return {
    name: 'drawing',
    async reconfigure(config, frame) {
      scene = await createSceneRenderer({ width: frame.width, height: frame.height, labels: outputLabels(o.labels, config.body.inference.class_groups), style: config.body.drawing });
    },
    process(frame: FrameRecord) {
      const overlay = overlayFromRules(frame.config.body.rules, frame.counters, frame.width, frame.height);
      scene!.draw(frame, {
        detections: frame.detections,
        zones: overlay.zones,
        lines: overlay.lines,
        highlighted: frame.triggered,
        events: frame.events,
        ptsS: frame.ptsS,
        header: { title: o.title, ptsS: frame.ptsS, fps: o.store.getSnapshot().context.source.info?.fps },
      });
      o.store.trigger.frameDrawn();
    },
    close() {},
  };
}
