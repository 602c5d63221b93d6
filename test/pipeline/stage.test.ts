import { describe, expect, it } from 'vitest';
import { createStageRunner, type Stage } from '../../src/pipeline/stage.js';
import type { AppliedConfig, StageName } from '../../src/frame.js';
import { configBodySchema } from '../../src/config/body.js';
import { testFrame } from '../helpers/frames.js';

const v = (version: number): AppliedConfig => ({ version, body: configBodySchema.parse({}) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A stage that records what it was asked to do and spends `workMs` on each frame. */
function recordingStage(name: StageName, workMs = 0) {
  const calls: string[] = [];
  const stage: Stage = {
    name,
    reconfigure: (config, frame) => void calls.push(`reconfigure v${config.version} on ${frame.frameId}`),
    process: async (frame) => {
      calls.push(`process ${frame.frameId}`);
      if (workMs > 0) await sleep(workMs);
    },
    close: () => void calls.push('close'),
  };
  return { stage, calls };
}

describe('stage runner', () => {
  it('reconfigures a stage before the first frame of each config version, with that frame', async () => {
    const { stage, calls } = recordingStage('rules');
    const run = createStageRunner(stage);
    await run(testFrame({ frameId: 0, width: 4, height: 4, config: v(0) }));
    await run(testFrame({ frameId: 1, width: 4, height: 4, config: v(0) }));
    await run(testFrame({ frameId: 2, width: 4, height: 4, config: v(1) }));
    await run(testFrame({ frameId: 3, width: 4, height: 4, config: v(1) }));
    expect(calls).toEqual(['reconfigure v0 on 0', 'process 0', 'process 1', 'reconfigure v1 on 2', 'process 2', 'process 3']);
  });

  it('appends each stage’s wait (since the previous stage ended) and service time to the frame', async () => {
    const a = createStageRunner(recordingStage('inference', 30).stage);
    const b = createStageRunner(recordingStage('rules').stage);
    const frame = testFrame({ frameId: 0, width: 4, height: 4 });
    await a(frame);
    await sleep(40); // the frame waits in the rules stage's queue
    await b(frame);
    expect(frame.stages.map((s) => s.stage)).toEqual(['inference', 'rules']);
    const [inf, rules] = frame.stages;
    expect(inf!.serviceMs).toBeGreaterThanOrEqual(25);
    expect(rules!.waitMs).toBeGreaterThanOrEqual(35);
    expect(rules!.serviceMs).toBeLessThan(rules!.waitMs);
    // The wait runs from the end of the previous stage to the start of this one, on one clock.
    expect(rules!.startedAtMs - (inf!.startedAtMs + inf!.serviceMs)).toBeCloseTo(rules!.waitMs, 6);
    expect(inf!.waitMs).toBeGreaterThanOrEqual(0);
  });

  it('frames started together wait for the reconfigure their version brought, and are processed in start order', async () => {
    const calls: string[] = [];
    let finishReconfigure!: () => void;
    const stage: Stage = {
      name: 'inference',
      concurrency: 3,
      reconfigure: (config) => {
        calls.push(`reconfigure v${config.version}`);
        return new Promise<void>((r) => (finishReconfigure = r));
      },
      process: (frame) => void calls.push(`process ${frame.frameId}`),
      close: () => undefined,
    };
    const run = createStageRunner(stage);
    const all = Promise.all([0, 1, 2].map((id) => run(testFrame({ frameId: id, width: 4, height: 4, config: v(0) }))));
    await sleep(10);
    expect(calls, 'nothing processed before the reconfigure is done').toEqual(['reconfigure v0']);
    finishReconfigure();
    await all;
    expect(calls).toEqual(['reconfigure v0', 'process 0', 'process 1', 'process 2']);
  });

  it('a stage that throws leaves the frame without its timing and the error to the caller', async () => {
    const stage: Stage = { name: 'drawing', reconfigure: () => undefined, process: () => Promise.reject(new Error('no glyphs')), close: () => undefined };
    const frame = testFrame({ frameId: 0, width: 4, height: 4 });
    await expect(createStageRunner(stage)(frame)).rejects.toThrow('no glyphs');
    expect(frame.stages).toEqual([]);
  });
});
