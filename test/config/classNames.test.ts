import { describe, expect, it } from 'vitest';
import { assertKnownClassNames, describeUnknownClassNames, unknownClassNames } from '../../src/config/classNames.js';
import { configBodySchema } from '../../src/config/body.js';
import { ConfigInvalidError } from '../../src/errors.js';

const labels = ['person', 'bicycle', 'car', 'truck'];
const body = (b: object) => configBodySchema.parse(b);
const zone = [[0, 0], [1, 0], [1, 1], [0, 1]];

describe('unknownClassNames', () => {
  it('finds nothing in a config using only the model’s labels (or none at all)', () => {
    expect(unknownClassNames(body({}), labels)).toEqual([]);
    const ok = body({
      inference: { classes: ['person', 'car'] },
      rules: [{ id: 'z', type: 'zone_presence', classes: ['truck'], zone }],
      drawing: { blur_classes: ['person'], colors: { car: '#00ff00' } },
    });
    expect(unknownClassNames(ok, labels)).toEqual([]);
  });

  it('names every place a class is written, with a suggestion for a likely typo only', () => {
    const bad = body({
      inference: { classes: ['person', 'Person'] },
      rules: [
        { id: 'a', type: 'zone_presence', classes: ['car'], zone },
        { id: 'b', type: 'zone_presence', classes: ['truk', 'unicorn'], zone },
      ],
      drawing: { blur_classes: ['persn'], colors: { bycicle: '#ff0000' } },
    });
    expect(unknownClassNames(bad, labels)).toEqual([
      { path: 'inference.classes.1', name: 'Person', suggestion: 'person' },
      { path: 'rules.1.classes.0', name: 'truk', suggestion: 'truck' },
      { path: 'rules.1.classes.1', name: 'unicorn' },
      { path: 'drawing.blur_classes.0', name: 'persn', suggestion: 'person' },
      { path: 'drawing.colors.bycicle', name: 'bycicle', suggestion: 'bicycle' },
    ]);
  });

  it('with class groups: rules, colours and blur name the group, the filter may name either; bad groups are named', () => {
    const grouped = {
      inference: { classes: ['person', 'vehicle'], class_groups: { vehicle: ['car', 'truck'] } },
      rules: [{ id: 'z', type: 'zone_presence', classes: ['vehicle', 'person'], zone }],
      drawing: { colors: { vehicle: '#00ff00' } },
    };
    expect(unknownClassNames(body(grouped), labels)).toEqual([]);
    const member = body({ ...grouped, rules: [{ id: 'z', type: 'zone_presence', classes: ['truck'], zone }], drawing: { blur_classes: ['car'] } });
    expect(describeUnknownClassNames(unknownClassNames(member, labels))).toBe(
      "rules.0.classes.0: 'truck' is reported as class group 'vehicle' (inference.class_groups): name 'vehicle'; " +
        "drawing.blur_classes.0: 'car' is reported as class group 'vehicle' (inference.class_groups): name 'vehicle'",
    );
    const badGroup = body({ inference: { class_groups: { vehicle: ['car', 'van'] } } });
    expect(describeUnknownClassNames(unknownClassNames(badGroup, labels))).toBe("inference.class_groups.vehicle.1: 'van' is not a class of the model");
  });

  it('assertKnownClassNames throws config_invalid (not retryable) naming them', () => {
    const bad = body({ drawing: { blur_classes: ['persn'] } });
    expect(() => assertKnownClassNames(bad, labels)).toThrow(ConfigInvalidError);
    try {
      assertKnownClassNames(bad, labels);
    } catch (err) {
      expect((err as ConfigInvalidError).kind).toBe('config_invalid');
      expect((err as ConfigInvalidError).retryable).toBe(false);
      expect((err as Error).message).toBe("drawing.blur_classes.0: 'persn' is not a class of the model (did you mean 'person'?)");
    }
  });

  it('bounds the work and the message for a config full of unknown names: suggestions for 10 distinct names, 20 spelt out', () => {
    const names = Array.from({ length: 1000 }, (_, i) => `persn${i % 50}`);
    const bad = body({ rules: [{ id: 'z', type: 'zone_presence', classes: names, zone }] });
    const problems = unknownClassNames(bad, labels);
    expect(problems).toHaveLength(1000);
    const suggested = new Set(problems.filter((p) => p.suggestion !== undefined).map((p) => p.name));
    expect(suggested.size).toBeLessThanOrEqual(10);
    // A repeated name gets the same answer each time it is met.
    expect(problems[50]).toEqual({ ...problems[0], path: 'rules.0.classes.50' });
    const text = describeUnknownClassNames(problems);
    expect(text.split('; ')).toHaveLength(21);
    expect(text).toMatch(/; and 980 more$/);
  });
});
