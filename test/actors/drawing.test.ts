import { describe, expect, it } from 'vitest';
import { createActor, setup } from 'xstate';
import { createDrawingActor } from '../../src/actors/drawing.js';
import type { LiveConfig } from '../../src/actors/liveConfig.js';
import { newRunPipes, newRunStats } from '../../src/actors/resources.js';
import { configBodySchema, type ConfigBody } from '../../src/config/index.js';
import { yuv420pSize, type FrameRecord } from '../../src/frame.js';

const W = 64;
const H = 48;
const labels = ['person'];
/** v1 has a filled zone over the whole frame, v2 none: what is drawn shows which one was used. */
const v1 = configBodySchema.parse({ rules: [{ id: 'all', type: 'zone_presence', zone: [[0, 0], [1, 0], [1, 1], [0, 1]] }], drawing: { zone_opacity: 1, header: false } });
const v2 = configBodySchema.parse({ drawing: { header: false } });

function grey(id: number, config?: { version: number; body: ConfigBody }): FrameRecord {
  return { runId: 'r', frameId: id, ptsS: id / 10, arrivedAtMs: 0, width: W, height: H, pixels: Buffer.alloc(yuv420pSize({ width: W, height: H }), 128), times: {}, ...(config ? { config } : {}) };
}

/** Runs the drawing stage on one frame with the live config given, and returns the drawn pixels. */
async function draw(live: LiveConfig, frame: FrameRecord): Promise<Buffer> {
  const stats = newRunStats();
  const pipes = newRunPipes(stats);
  const machine = setup({
    actors: { drawing: createDrawingActor({ pipes, stats, config: live, sourceState: { info: undefined, nextFrameId: 0 }, labels: () => labels, title: 't' }) },
  }).createMachine({ invoke: { src: 'drawing' } });
  const actor = createActor(machine).start();
  try {
    pipes.ruled.push(frame);
    const out = await pipes.drawn.take();
    return Buffer.from(out!.pixels);
  } finally {
    actor.stop();
  }
}

describe('drawing stage', () => {
  it('draws a frame with the config its rules ran with, not a newer live one', async () => {
    const withV1 = await draw({ version: 1, body: v1 }, grey(0));
    const withV2 = await draw({ version: 2, body: v2 }, grey(0));
    expect(withV1.equals(withV2), 'the two versions draw differently').toBe(false);
    // A frame the rules ran on with v1 reaches drawing after the live config moved to v2.
    const late = await draw({ version: 2, body: v2 }, grey(0, { version: 1, body: v1 }));
    expect(late.equals(withV1)).toBe(true);
  });
});
