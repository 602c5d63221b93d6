import { describe, expect, it } from 'vitest';
import { admitFrame, createRunStore, totalDropped } from '../../src/pipeline/runStore.js';
import { configBodySchema } from '../../src/config/body.js';

const info = { codec: 'h264', width: 32, height: 16, fps: 10 };
const body = (confidence: number) => configBodySchema.parse({ inference: { confidence } });

describe('run store', () => {
  it('stamps each frame with the config in force when it was decoded; a reconfigure is one event', () => {
    const store = createRunStore({ config: body(0.3) });
    store.trigger.sourceOpened({ info });
    const a = admitFrame(store, { runId: 'r', pixels: Buffer.alloc(0), ptsS: 0, arrivedAtMs: 1 });
    store.trigger.configApplied({ body: body(0.6) });
    const b = admitFrame(store, { runId: 'r', pixels: Buffer.alloc(0), ptsS: 0.1, arrivedAtMs: 2 });
    expect(a.config).toMatchObject({ version: 0, body: { inference: { confidence: 0.3 } } });
    expect(b.config).toMatchObject({ version: 1, body: { inference: { confidence: 0.6 } } });
    expect(a.config.body.inference.confidence, 'the older frame keeps its config').toBe(0.3);
    expect([a.frameId, b.frameId]).toEqual([0, 1]);
    expect([b.width, b.height]).toEqual([32, 16]);
  });

  it('keeps the first connection’s geometry and continues frame ids and the time line across connections', () => {
    const store = createRunStore({ config: body(0.3) });
    store.trigger.sourceOpened({ info });
    admitFrame(store, { runId: 'r', pixels: Buffer.alloc(0), ptsS: 4.2, arrivedAtMs: 1000 });
    store.trigger.sourceOpened({ info: { ...info, width: 64, height: 64 } });
    const next = admitFrame(store, { runId: 'r', pixels: Buffer.alloc(0), ptsS: 9, arrivedAtMs: 5000 });
    const { source, stats } = store.getSnapshot().context;
    expect(source.info).toEqual(info);
    expect(next.frameId).toBe(1);
    expect(source.last).toEqual({ ptsS: 9, atMs: 5000 });
    expect(stats.framesIn).toBe(2);
  });

  it('counts drops where they happen, detections, drawing and the output, first output once', () => {
    const store = createRunStore({ config: body(0.3), startedAtMs: 0 });
    for (const before of ['inference', 'inference', 'rules', 'drawing', 'output'] as const) store.trigger.frameDropped({ before });
    store.trigger.frameDetected({ ms: 12.5 });
    store.trigger.frameDrawn();
    store.trigger.outputCounted({ count: 'accessUnitsOut' });
    const first = store.getSnapshot().context.stats.firstOutputAtMs;
    store.trigger.outputCounted({ count: 'accessUnitsOut' });
    store.trigger.reconnecting();
    const s = store.getSnapshot().context.stats;
    expect(s).toMatchObject({ droppedBeforeInference: 2, droppedBeforeRules: 1, droppedBeforeDrawing: 1, droppedAtOutput: 1 });
    expect(totalDropped(s)).toBe(5);
    expect(s).toMatchObject({ framesInferred: 1, lastInferenceMs: 12.5, framesDrawn: 1, accessUnitsOut: 2, reconnects: 1 });
    expect(first).toBeTypeOf('number');
    expect(s.firstOutputAtMs).toBe(first);
  });
});
