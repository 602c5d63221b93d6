import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { graphShapes, makeBatchDynamic } from '../../src/tools/onnx/batchAxis.js';
import { parseMessage, serializeMessage } from '../../src/tools/onnx/protoWire.js';
import { MODELS_DIR } from '../helpers/engineFixtures.js';

const model = readFileSync(`${MODELS_DIR}/yolox_nano.onnx`);
const SIZE = 3 * 416 * 416;

function frame(seed: number): Float32Array {
  const data = new Float32Array(SIZE);
  let s = seed >>> 0;
  for (let i = 0; i < SIZE; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s >>> 24;
  }
  return data;
}

describe('ONNX batch axis', () => {
  it('parsing and serializing the model without edits gives its very bytes (unknown fields survive)', () => {
    expect(Buffer.from(serializeMessage(parseMessage(model))).equals(model)).toBe(true);
  });

  it('the rewritten YOLOX-nano takes any batch, and each item of a batch equals the original model on it alone', async () => {
    const { model: dynamic, report } = makeBatchDynamic(model);
    expect(graphShapes(model).inputs[0]!.dims).toEqual([1, 3, 416, 416]);
    expect(report.inputs).toEqual([{ name: 'images', dims: ['batch', 3, 416, 416] }]);
    expect(report.outputs).toEqual([{ name: 'output', dims: ['batch', 3549, 85] }]);
    expect(report.reshapesFreed).toHaveLength(3);

    const opts = { intraOpNumThreads: 1, graphOptimizationLevel: 'all' } as const;
    const fixed = await ort.InferenceSession.create(model, opts);
    const dyn = await ort.InferenceSession.create(dynamic, opts);
    try {
      const frames = [frame(1), frame(2), frame(3)];
      const batch = new Float32Array(frames.length * SIZE);
      frames.forEach((f, i) => batch.set(f, i * SIZE));
      const out = (await dyn.run({ images: new ort.Tensor('float32', batch, [frames.length, 3, 416, 416]) })).output!;
      expect(out.dims).toEqual([3, 3549, 85]);
      const perItem = 3549 * 85;
      for (let i = 0; i < frames.length; i++) {
        const alone = (await fixed.run({ images: new ort.Tensor('float32', frames[i]!, [1, 3, 416, 416]) })).output!.data as Float32Array;
        const item = (out.data as Float32Array).subarray(i * perItem, (i + 1) * perItem);
        let worst = 0;
        for (let k = 0; k < perItem; k++) worst = Math.max(worst, Math.abs(item[k]! - alone[k]!) / Math.max(1, Math.abs(alone[k]!)));
        expect(worst, `item ${i}`).toBeLessThan(1e-4);
      }
    } finally {
      await fixed.release();
      await dyn.release();
    }
  }, 60_000);
});
