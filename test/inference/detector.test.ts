import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigInvalidError, ModelError } from '../../src/errors.js';
import { createDetector, resolveClassFilter } from '../../src/inference/detector.js';
import {
  loadLabels,
  loadModelSpec,
  parseModelSpec,
  projectRoot,
  resolveModelSpec,
} from '../../src/inference/modelSpec.js';
import { getModelSession, loadedModelSessions, releaseAllModelSessions } from '../../src/inference/modelSession.js';

const WEIGHTS = join(projectRoot, '../shared/models/yolox_nano.onnx');
const LABELS = join(projectRoot, '../shared/models/coco_classes.txt');
const SPEC_FILE = join(projectRoot, 'models/yolox-nano.json');

afterAll(() => releaseAllModelSessions());

async function tempFile(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sie-models-'));
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}

describe('model spec', () => {
  it('models/yolox-nano.json resolves to the shared weights and 80 COCO labels', async () => {
    const spec = await loadModelSpec(SPEC_FILE);
    expect(spec).toMatchObject({ name: 'yolox-nano', format: 'yolox' });
    const r = await resolveModelSpec(spec);
    expect(r.weightsPath).toBe(WEIGHTS);
    expect(r.labels).toHaveLength(80);
    expect([r.labels[0], r.labels[79]]).toEqual(['person', 'toothbrush']);
  });

  it.each([
    ['an unknown format', { name: 'x', format: 'ssd', weights: 'a.onnx', labels: ['a'] }, /format/],
    ['missing weights', { name: 'x', format: 'yolox', labels: ['a'] }, /weights/],
    ['empty labels', { name: 'x', format: 'yolox', weights: 'a.onnx', labels: [] }, /labels/],
    ['an unknown key', { name: 'x', format: 'yolox', weights: 'a.onnx', labels: 'l.txt', size: 416 }, /size/],
  ])('rejects %s with a ConfigInvalidError', (_n, value, message) => {
    expect(() => parseModelSpec(value)).toThrow(ConfigInvalidError);
    expect(() => parseModelSpec(value)).toThrow(message);
  });

  it('loadLabels trims lines and ignores trailing empty lines', async () => {
    expect(await loadLabels(await tempFile('l.txt', ' person\r\ncar  \n\n\n'))).toEqual(['person', 'car']);
  });

  it('loadLabels refuses a blank line inside (ids would shift) and a missing file', async () => {
    await expect(loadLabels(await tempFile('l.txt', 'a\n\nb\n'))).rejects.toThrow(/line 2 is empty/);
    await expect(loadLabels('/nonexistent/labels.txt')).rejects.toThrow(ModelError);
  });
});

describe('sessions', () => {
  it('share one session per file, even for concurrent loads under different spellings', async () => {
    const rel = relative(process.cwd(), WEIGHTS);
    const [a, b] = await Promise.all([getModelSession(WEIGHTS), getModelSession(rel)]);
    expect(a).toBe(b);
    expect(await getModelSession(WEIGHTS, { threads: 1 })).toBe(a);
    expect(loadedModelSessions()).toContain(WEIGHTS);
  });

  it('reports a missing or broken model file as a ModelError naming it', async () => {
    await expect(getModelSession('/nonexistent/model.onnx')).rejects.toThrow('model file not found: /nonexistent/model.onnx');
    const junk = await tempFile('junk.onnx', 'not a model');
    await expect(getModelSession(junk)).rejects.toThrow(ModelError);
    await expect(getModelSession(junk)).rejects.toThrow(`cannot load model ${junk}`);
    expect(loadedModelSessions()).not.toContain(junk); // a failed load is not cached
  });
});

describe('createDetector', () => {
  it('validates class names against the labels', async () => {
    const labels = ['person', 'car', 'dog'];
    expect(resolveClassFilter(labels, undefined)).toBeUndefined();
    expect([...resolveClassFilter(labels, ['dog', 'person'])!]).toEqual([2, 0]);
    await expect(createDetector({ weightsPath: WEIGHTS, labels: LABELS, classes: ['person', 'unicorn'] })).rejects.toThrow(
      ConfigInvalidError,
    );
    await expect(createDetector({ weightsPath: WEIGHTS, labels: LABELS, classes: ['unicorn'] })).rejects.toThrow(
      /unknown class "unicorn"/,
    );
  });

  it('refuses labels that do not match the output, naming both counts', async () => {
    const labels = Array.from({ length: 79 }, (_, i) => `c${i}`);
    await expect(createDetector({ weightsPath: WEIGHTS, labels })).rejects.toThrow(ModelError);
    await expect(createDetector({ weightsPath: WEIGHTS, labels })).rejects.toThrow(/80 classes, but the labels list 79/);
  });

  it('refuses thresholds outside 0–1', async () => {
    await expect(createDetector({ weightsPath: WEIGHTS, labels: LABELS, confidence: 1.5 })).rejects.toThrow(ConfigInvalidError);
    await expect(createDetector({ weightsPath: WEIGHTS, labels: LABELS, iou: -0.1 })).rejects.toThrow(/iou must be/);
  });

  it('detects nothing on a flat grey frame and reports stage times', async () => {
    const det = await createDetector({ spec: await loadModelSpec(SPEC_FILE) });
    expect([det.inputWidth, det.inputHeight, det.labels.length]).toEqual([416, 416, 80]);
    const pixels = new Uint8Array(640 * 480 * 1.5).fill(128);
    const r = await det.detect({ pixels, width: 640, height: 480 });
    expect(r.count).toBe(0);
    for (const t of [r.timing.preMs, r.timing.inferMs, r.timing.postMs]) expect(t).toBeGreaterThanOrEqual(0);
  });
});
