import { describe, expect, it } from 'vitest';
import { classGroupProblems, classLayout, outputLabels } from '../../src/inference/classGroups.js';
import { inferenceConfigSchema } from '../../src/config/inference.js';
import { ConfigInvalidError } from '../../src/errors.js';
import { keyOf } from '../../src/inference/workerPool.js';

const labels = ['person', 'bicycle', 'car', 'truck', 'bus'];

describe('classLayout', () => {
  it('is the identity without groups', () => {
    const l = classLayout(labels);
    expect(l.labels).toEqual(labels);
    expect(Array.from(l.outputOf)).toEqual([0, 1, 2, 3, 4]);
    expect(outputLabels(labels, {})).toBe(labels);
  });

  it('appends a new group name after the model labels and maps its members to it', () => {
    const l = classLayout(labels, { vehicle: ['car', 'truck', 'bus'] });
    expect(l.labels).toEqual([...labels, 'vehicle']);
    expect(Array.from(l.outputOf)).toEqual([0, 1, 5, 5, 5]);
    expect(l.members.get('vehicle')).toEqual([2, 3, 4]);
  });

  it('a group named after one of its members takes that member’s id', () => {
    const l = classLayout(labels, { car: ['car', 'truck'], riders: ['person', 'bicycle'] });
    expect(l.labels).toEqual([...labels, 'riders']);
    expect(Array.from(l.outputOf)).toEqual([5, 5, 2, 2, 4]);
  });

  it('refuses unknown members and a name that is another model class', () => {
    expect(classGroupProblems(labels, { vehicle: ['car', 'van'], truck: ['bus'] })).toEqual([
      { path: 'inference.class_groups.vehicle.1', name: 'van', message: "'van' is not a class of the model" },
      { path: 'inference.class_groups.truck', name: 'truck', message: expect.stringMatching(/'truck' is a class of the model that is not in this group/) },
    ]);
    expect(() => classLayout(labels, { vehicle: ['van'] })).toThrow(ConfigInvalidError);
  });
});

describe('inference.class_groups and nms (schema)', () => {
  it('defaults to no groups and per-class NMS', () => {
    expect(inferenceConfigSchema.parse({})).toMatchObject({ class_groups: {}, nms: 'per_class' });
  });

  it('refuses a class in two groups, twice in one, and a group named after another group’s member', () => {
    const r = inferenceConfigSchema.safeParse({ class_groups: { vehicle: ['car', 'truck', 'car'], big: ['truck', 'bus'], car2: ['bus2'], bus2: ['x'] } });
    expect(r.success).toBe(false);
    const issues = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toContain("class_groups.vehicle.2: 'car' is twice in this group: a class belongs to one group at most");
    expect(issues).toContain("class_groups.big.0: 'truck' is also in group 'vehicle': a class belongs to one group at most");
    expect(issues).toContain("class_groups.bus2: the group name 'bus2' is a member of group 'car2'");
    expect(inferenceConfigSchema.safeParse({ nms: 'global' }).success).toBe(false);
    expect(inferenceConfigSchema.safeParse({ class_groups: { vehicle: [] } }).success).toBe(false);
  });
});

describe('the inference pool’s detector key', () => {
  it('tells apart options that differ only inside a nested object', () => {
    const base = { weightsPath: 'm.onnx', labels: labels } as const;
    const a = keyOf({ ...base, classGroups: { vehicle: ['car', 'truck'] } });
    const b = keyOf({ ...base, classGroups: { vehicle: ['car', 'bus'] } });
    const c = keyOf({ ...base, classGroups: { cars: ['car', 'truck'] } });
    expect(new Set([a, b, c]).size).toBe(3);
    // Key order does not matter, at any depth.
    expect(keyOf({ classGroups: { b: ['bus'], a: ['car'] }, ...base })).toBe(keyOf({ ...base, classGroups: { a: ['car'], b: ['bus'] } }));
  });
});
