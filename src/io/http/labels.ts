import { labelLines } from '../../inference/modelSpec.js';
import { unprocessable, type ApiError } from './errors.js';
import { badStringReason, firstInvalidUtf8 } from './strings.js';

/** Longest class name: the same bound as a class name in a config, so every label can be referred to. */
export const MAX_LABEL_LENGTH = 200;
/** Detection heads have tens to a few thousand classes; far more lines means this is not a labels file. */
export const MAX_LABELS = 10_000;

/** C0 controls and DEL: a label is drawn on frames and named in configs; a tab or escape in it is a mistake. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * An uploaded labels file as class names, checked before anything is stored: UTF-8 (a byte order mark is
 * dropped), one name a line in output order, lines trimmed and trailing blank lines ignored (as the engine's
 * loadLabels reads them). Refused with 422 naming the line: an empty line inside (ids would shift), a name
 * given twice (configs name classes, so two ids behind one name make "person" ambiguous), control
 * characters, names longer than MAX_LABEL_LENGTH, more than MAX_LABELS lines.
 */
export function parseLabelsFile(bytes: Uint8Array, filename: string): string[] {
  const fail = (detail: string): ApiError => unprocessable(`labels: ${filename}: ${detail}`);
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) throw fail(`invalid UTF-8 at byte ${bad}`);
  const lines = labelLines(new TextDecoder('utf-8').decode(bytes));
  if (lines.length === 0) throw fail('lists no classes');
  if (lines.length > MAX_LABELS) throw fail(`${lines.length} lines; at most ${MAX_LABELS} classes`);
  const seen = new Map<string, number>();
  lines.forEach((label, i) => {
    const line = i + 1;
    if (label === '') throw fail(`line ${line} is empty (class ids would shift)`);
    const reason = badStringReason(label) ?? (CONTROL.test(label) ? 'contains a control character' : undefined);
    if (reason) throw fail(`line ${line} ${reason}`);
    if (label.length > MAX_LABEL_LENGTH) throw fail(`line ${line} is ${label.length} characters long; at most ${MAX_LABEL_LENGTH}`);
    const first = seen.get(label);
    if (first !== undefined) throw fail(`line ${line} repeats "${label}" of line ${first} (class names must be unique)`);
    seen.set(label, line);
  });
  return lines;
}
