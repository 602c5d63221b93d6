import { describe, expect, it } from 'vitest';
import { createDrawingStage } from '../../src/pipeline/stages/drawing.js';
import { createStageRunner } from '../../src/pipeline/stage.js';
import { admitFrame, createRunStore } from '../../src/pipeline/runStore.js';
import { configBodySchema } from '../../src/config/body.js';
import { yuv420pSize } from '../../src/frame.js';

const W = 64;
const H = 48;
/** v1 has a filled zone over the whole frame, v2 none: what is drawn shows which one was used. */
const v1 = configBodySchema.parse({ rules: [{ id: 'all', type: 'zone_presence', zone: [[0, 0], [1, 0], [1, 1], [0, 1]] }], drawing: { zone_opacity: 1, header: false } });
const v2 = configBodySchema.parse({ drawing: { header: false } });
const grey = () => Buffer.alloc(yuv420pSize({ width: W, height: H }), 128);

describe('drawing stage', () => {
  it('draws each frame with the config it was decoded with, also after the run moved on to a newer one', async () => {
    const store = createRunStore({ config: v1 });
    store.trigger.sourceOpened({ info: { codec: 'h264', width: W, height: H, fps: 10 } });
    const draw = createStageRunner(createDrawingStage({ store, labels: ['person'], title: 't' }));
    const early = admitFrame(store, { runId: 'r', pixels: grey(), ptsS: 0, arrivedAtMs: 0 });
    // The reconfigure lands while `early` is still on its way to the drawing stage.
    store.trigger.configApplied({ body: v2 });
    const late = admitFrame(store, { runId: 'r', pixels: grey(), ptsS: 0.1, arrivedAtMs: 0 });
    await draw(early);
    await draw(late);

    // References: each version drawn by a stage that never saw the other.
    const reference = async (body: typeof v1) => {
      const own = createRunStore({ config: body });
      own.trigger.sourceOpened({ info: { codec: 'h264', width: W, height: H, fps: 10 } });
      const f = admitFrame(own, { runId: 'r', pixels: grey(), ptsS: 0, arrivedAtMs: 0 });
      await createStageRunner(createDrawingStage({ store: own, labels: ['person'], title: 't' }))(f);
      return f.pixels;
    };
    const withV1 = await reference(v1);
    const withV2 = await reference(v2);
    expect(withV1.equals(withV2), 'the two versions draw differently').toBe(false);
    expect(early.pixels.equals(withV1)).toBe(true);
    expect(late.pixels.equals(withV2)).toBe(true);
    expect(store.getSnapshot().context.stats.framesDrawn).toBe(2);
  });
});
