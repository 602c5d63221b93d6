import { describe, expect, it } from 'vitest';
import { configBodySchema } from '../../src/config/body.js';
import { detectorOptionsFor } from '../../src/pipeline/stages/inference.js';
import { WEAK_DETECTION_SCORE } from '../../src/tracking/options.js';

const model = { weightsPath: 'm.onnx', labels: ['person', 'car', 'truck'] } as const;

describe('the detector a config asks for', () => {
  it('keeps boxes down to the tracker’s weak score, below inference.confidence (they may only extend tracks)', () => {
    const body = configBodySchema.parse({ inference: { confidence: 0.45, iou: 0.5, classes: ['person'], class_groups: { vehicle: ['car', 'truck'] }, nms: 'agnostic' } });
    expect(detectorOptionsFor(model, body)).toEqual({
      ...model,
      confidence: WEAK_DETECTION_SCORE,
      iou: 0.5,
      classes: ['person'],
      classGroups: { vehicle: ['car', 'truck'] },
      nms: 'agnostic',
    });
  });

  it('a confidence below the weak score is kept as it is', () => {
    expect(detectorOptionsFor(model, configBodySchema.parse({ inference: { confidence: 0.05 } })).confidence).toBe(0.05);
  });
});
