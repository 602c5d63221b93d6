import { ConfigInvalidError } from '../errors.js';
import type { ConfigBody } from './body.js';
import { classGroupProblems, classLayout } from '../inference/classGroups.js';

/** One class name of a config that the model does not have, with where it was written. */
export interface UnknownClassName {
  /** Dotted path in the config body, e.g. `rules.0.classes.1`, `drawing.colors.persn`. */
  path: string;
  name: string;
  /** The model's label closest to `name`, when one is close enough to be a likely typo. */
  suggestion?: string;
  /** What is wrong when it is not "not a class of the model" (class groups). */
  problem?: string;
}

/**
 * Every class name a config writes (inference filter, each rule's classes, blur classes, colour keys),
 * checked against the model's labels. The one check used where a config enters (API, engine claim, live
 * reconfigure, config files): a misspelt blur class would show faces unmasked, a rule class that matches
 * nothing would count nothing, and both would look like working configs.
 */
export function unknownClassNames(body: ConfigBody, labels: readonly string[]): UnknownClassName[] {
  const groups = body.inference.class_groups;
  const groupProblems = classGroupProblems(labels, groups);
  const out: UnknownClassName[] = groupProblems.map((p) => ({ path: p.path, name: p.name, problem: p.message }));
  // Rules, colours and blur name the reported classes: with groups, a group's name instead of its members'.
  const reported = groupProblems.length === 0 ? classLayout(labels, groups).labels : labels;
  const groupOf = new Map(Object.entries(groups).flatMap(([g, members]) => members.filter((m) => m !== g).map((m) => [m, g] as const)));
  const known = new Set(reported);
  // Suggestions cost one edit distance per label: computed once per distinct name, and for the first few
  // names only, so a config full of unknown names (the API takes up to 1 MB) cannot hold the event loop.
  const suggestions = new Map<string, string | undefined>();
  const check = (path: string, name: string) => {
    if (known.has(name)) return;
    if (!suggestions.has(name) && suggestions.size < MAX_SUGGESTED) suggestions.set(name, closestLabel(name, labels));
    const suggestion = suggestions.get(name);
    out.push(suggestion === undefined ? { path, name } : { path, name, suggestion });
  };
  /** A member of a group is no longer reported under its own name: naming it would match nothing. */
  const checkReported = (path: string, name: string) => {
    const group = groupOf.get(name);
    if (group === undefined) return check(path, name);
    out.push({ path, name, problem: `'${name}' is reported as class group '${group}' (inference.class_groups): name '${group}'` });
  };
  // The detector's filter takes model classes, and a group's name for all its members.
  body.inference.classes?.forEach((c, i) => (c in groups ? undefined : check(`inference.classes.${i}`, c)));
  body.rules.forEach((r, ri) => r.classes.forEach((c, i) => checkReported(`rules.${ri}.classes.${i}`, c)));
  body.drawing.blur_classes.forEach((c, i) => checkReported(`drawing.blur_classes.${i}`, c));
  for (const c of Object.keys(body.drawing.colors ?? {})) checkReported(`drawing.colors.${c}`, c);
  return out;
}

/** Distinct unknown names that get a suggestion. */
const MAX_SUGGESTED = 10;
/** Problems spelt out in one message; the rest are counted. */
const MAX_DESCRIBED = 20;

/** `rules.0.classes.0: 'unicorn' is not a class of the model (did you mean …)`, joined with '; '. */
export function describeUnknownClassNames(problems: readonly UnknownClassName[]): string {
  const shown = problems
    .slice(0, MAX_DESCRIBED)
    .map((p) => `${p.path}: ${p.problem ?? `'${p.name}' is not a class of the model`}${p.suggestion === undefined ? '' : ` (did you mean '${p.suggestion}'?)`}`)
    .join('; ');
  const more = problems.length - MAX_DESCRIBED;
  return more > 0 ? `${shown}; and ${more} more` : shown;
}

/** Labels within edit distance 2 (and less than half the name) count as a likely typo. */
function closestLabel(name: string, labels: readonly string[]): string | undefined {
  const limit = Math.min(2, Math.floor(name.length / 2));
  let best: string | undefined;
  let bestD = limit + 1;
  for (const l of labels) {
    if (Math.abs(l.length - name.length) > limit) continue;
    const d = editDistance(name.toLowerCase(), l.toLowerCase());
    if (d < bestD) {
      best = l;
      bestD = d;
    }
  }
  return best;
}

/** Levenshtein distance; names are short (≤ 200 characters by the schema). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** Throws config_invalid (never retried: the same config fails the same way) naming every unknown class. */
export function assertKnownClassNames(body: ConfigBody, labels: readonly string[]): void {
  const unknown = unknownClassNames(body, labels);
  if (unknown.length > 0) throw new ConfigInvalidError(describeUnknownClassNames(unknown));
}
