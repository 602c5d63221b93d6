/**
 * The classes a run reports, from the model's labels and the config's `inference.class_groups`: each group is
 * one output class, so its members' boxes meet in one NMS, one track and one tag. Pure, computed once per
 * config (the detector maps ids; the rules and drawing stages name them).
 */
import { ConfigInvalidError } from '../errors.js';

export type ClassGroups = Readonly<Record<string, readonly string[]>>;

export interface ClassLayout {
  /**
   * Output class names indexed by output class id: the model's labels, then each group whose name is not one
   * of its members' labels (a group named after a member takes that member's id).
   */
  readonly labels: readonly string[];
  /** Model class id → output class id (identity outside the groups). */
  readonly outputOf: Int32Array;
  /** Group name → its model class ids, for filters that name a group. */
  readonly members: ReadonlyMap<string, readonly number[]>;
}

/** One thing wrong with the groups against these labels, with its path under `inference.class_groups`. */
export interface ClassGroupProblem {
  readonly path: string;
  /** The class or group name at fault. */
  readonly name: string;
  readonly message: string;
}

/** What is wrong with `groups` for a model with `labels` (unknown members, a name taken by another class). */
export function classGroupProblems(labels: readonly string[], groups: ClassGroups): ClassGroupProblem[] {
  const known = new Set(labels);
  const out: ClassGroupProblem[] = [];
  for (const [group, members] of Object.entries(groups)) {
    members.forEach((m, i) => {
      if (!known.has(m)) out.push({ path: `inference.class_groups.${group}.${i}`, name: m, message: `'${m}' is not a class of the model` });
    });
    if (known.has(group) && !members.includes(group)) {
      out.push({
        path: `inference.class_groups.${group}`,
        name: group,
        message: `'${group}' is a class of the model that is not in this group: name the group otherwise, or list '${group}' among its members`,
      });
    }
  }
  return out;
}

/** The layout for a model and its config's groups; invalid groups are a config error (never retried). */
export function classLayout(labels: readonly string[], groups: ClassGroups = {}): ClassLayout {
  const problems = classGroupProblems(labels, groups);
  if (problems.length > 0) throw new ConfigInvalidError(problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  const out = [...labels];
  const outputOf = Int32Array.from(labels, (_, i) => i);
  const members = new Map<string, number[]>();
  for (const [group, names] of Object.entries(groups)) {
    const ids = names.map((n) => labels.indexOf(n));
    let target = labels.indexOf(group);
    if (target < 0) {
      target = out.length;
      out.push(group);
    }
    for (const id of ids) outputOf[id] = target;
    members.set(group, ids);
  }
  return { labels: out, outputOf, members };
}

/** Output class names for a config: what the rules and the drawing name classes by. */
export function outputLabels(labels: readonly string[], groups: ClassGroups | undefined): readonly string[] {
  return groups && Object.keys(groups).length > 0 ? classLayout(labels, groups).labels : labels;
}
