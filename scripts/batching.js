// Does cross-stream batching pay on this machine? Times YOLOX-nano with a dynamic batch axis (made by
// src/tools/onnx/batchAxis.ts from the shipped [1,3,416,416] model) at batch 1, 2, 4 and 8, against the
// original model, per frame, on one ORT thread and on all cores. A measurement to run by hand on a quiet
// machine, never a test. Runs the compiled code: `npx tsc -p tsconfig.json` first.
//
//   node scripts/batching.js [model=../shared/models/yolox_nano.onnx] [rounds=40]
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { makeBatchDynamic } from '../dist/tools/onnx/batchAxis.js';

const [modelPath = '../shared/models/yolox_nano.onnx', roundsArg = '40'] = process.argv.slice(2);
const rounds = Number(roundsArg);
const original = readFileSync(modelPath);
const { model: dynamic } = makeBatchDynamic(original);
const SIZE = 3 * 416 * 416;

/** Frames of 0–255 noise: the network's cost does not depend on what it sees. */
function input(batch) {
  const data = new Float32Array(batch * SIZE);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) % 256;
  return new ort.Tensor('float32', data, [batch, 3, 416, 416]);
}

async function msPerFrame(session, batch) {
  const feeds = { [session.inputNames[0]]: input(batch) };
  for (let i = 0; i < 3; i++) await session.run(feeds); // warm-up: allocations, first-run set-up
  const t0 = performance.now();
  const n = Math.max(2, Math.round(rounds / batch));
  for (let i = 0; i < n; i++) await session.run(feeds);
  return (performance.now() - t0) / (n * batch);
}

console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const threads of [1, availableParallelism()]) {
  const opts = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  const fixed = await ort.InferenceSession.create(original, opts);
  const dyn = await ort.InferenceSession.create(dynamic, opts);
  const row = [`original b1 ${(await msPerFrame(fixed, 1)).toFixed(2)}`];
  for (const b of [1, 2, 4, 8]) row.push(`b${b} ${(await msPerFrame(dyn, b)).toFixed(2)}`);
  console.log(`intra-op threads ${threads}: ms per frame: ${row.join(' | ')}`);
  await fixed.release();
  await dyn.release();
}
console.log(`load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
