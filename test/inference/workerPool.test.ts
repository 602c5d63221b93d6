import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigInvalidError, ModelError } from '../../src/errors.js';
import { createDetector, type Detector } from '../../src/inference/detector.js';
import { InferencePool } from '../../src/inference/workerPool.js';
import { yuv420pSize } from '../../src/frame.js';
import { LABELS, MODEL, PLAZA, runFfmpeg } from '../helpers/media.js';

const W = 768;
const H = 576;
const model = { weightsPath: MODEL, labels: LABELS, format: 'yolox' as const };

/** Frames 0, 300 and 600 of the plaza clip, each in its own SharedArrayBuffer, as the decoder hands them out. */
async function plazaFrames(): Promise<Buffer[]> {
  const raw = await runFfmpeg(['-i', PLAZA, '-vf', String.raw`select=eq(n\,0)+eq(n\,300)+eq(n\,600)`, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-']);
  const size = yuv420pSize({ width: W, height: H });
  expect(raw.length).toBe(3 * size);
  return [0, 1, 2].map((i) => {
    const shared = Buffer.from(new SharedArrayBuffer(size));
    raw.copy(shared, 0, i * size, (i + 1) * size);
    return shared;
  });
}

let pool: InferencePool;
let frames: Buffer[];
beforeAll(async () => {
  pool = new InferencePool({ workers: 2 });
  frames = await plazaFrames();
}, 60_000);
afterAll(() => pool.close());

describe('inference pool (worker threads)', () => {
  it('detects exactly what the detector on this thread detects, frame by frame', async () => {
    const here = await createDetector({ ...model, confidence: 0.3 });
    const there = await pool.createDetector({ ...model, confidence: 0.3 });
    expect(there.labels).toEqual(here.labels);
    expect([there.inputWidth, there.inputHeight]).toEqual([416, 416]);
    for (const pixels of frames) {
      const a = await here.detect({ pixels, width: W, height: H });
      const b = await there.detect({ pixels, width: W, height: H });
      expect(b.count).toBeGreaterThan(0);
      expect(b.count).toBe(a.count);
      expect(Array.from(b.xyxy)).toEqual(Array.from(a.xyxy));
      expect(Array.from(b.confidence)).toEqual(Array.from(a.confidence));
      expect(Array.from(b.classId)).toEqual(Array.from(a.classId));
    }
  }, 60_000);

  it('keeps the event loop turning while a worker infers', async () => {
    const d: Detector = await pool.createDetector(model);
    let turns = 0;
    let done = false;
    const spin = (): void => {
      if (done) return;
      turns++;
      setImmediate(spin);
    };
    spin();
    for (const pixels of frames) await d.detect({ pixels, width: W, height: H });
    done = true;
    // Three inferences of ~10 ms each: a loop blocked by them would turn a handful of times, not hundreds.
    expect(turns).toBeGreaterThan(50);
  }, 60_000);

  it('runs several frames at once, one per worker, each with its own answer', async () => {
    const d = await pool.createDetector({ ...model, classes: ['person'] });
    const one = await Promise.all(frames.map((pixels) => d.detect({ pixels, width: W, height: H })));
    const again = await Promise.all([...frames].reverse().map((pixels) => d.detect({ pixels, width: W, height: H })));
    expect(one.map((r) => r.count)).toEqual(again.reverse().map((r) => r.count));
    const person = d.labels.indexOf('person');
    for (const r of one) expect(Array.from(r.classId).every((c) => c === person)).toBe(true);
  }, 60_000);

  it('reports a class the model lacks as a config error and a missing file as a model error, by class', async () => {
    await expect(pool.createDetector({ ...model, classes: ['persn'] })).rejects.toBeInstanceOf(ConfigInvalidError);
    await expect(pool.createDetector({ ...model, weightsPath: '/nonexistent/model.onnx' })).rejects.toBeInstanceOf(ModelError);
  }, 60_000);
});
