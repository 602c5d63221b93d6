import { configBodySchema } from '../../src/config/body.js';
import { yuv420pSize, type AppliedConfig, type FrameRecord } from '../../src/frame.js';

/** The defaults of every section, as version 0. */
export const DEFAULT_APPLIED_CONFIG: AppliedConfig = { version: 0, body: configBodySchema.parse({}) };

/** A FrameRecord as the decoder makes it, for tests of what comes after: every pixel `fill` unless given. */
export function testFrame(o: { frameId: number; width: number; height: number; ptsS?: number; fill?: number; pixels?: Buffer; config?: AppliedConfig }): FrameRecord {
  return {
    runId: 'r',
    frameId: o.frameId,
    ptsS: o.ptsS ?? o.frameId,
    arrivedAtMs: Date.now(),
    width: o.width,
    height: o.height,
    pixels: o.pixels ?? Buffer.alloc(yuv420pSize(o), o.fill ?? 0),
    config: o.config ?? DEFAULT_APPLIED_CONFIG,
    stages: [],
  };
}
