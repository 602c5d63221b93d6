/**
 * A small, strict parser of the OpenMetrics text format (and of Prometheus text 0.0.4, which is the same
 * minus `# EOF`, exemplars and `_total` rules), written from the specification, independent of prom-client:
 * a test that parses what prom-client produced with prom-client would prove nothing.
 * https://github.com/OpenObservability/OpenMetrics/blob/main/specification/OpenMetrics.md
 */
export interface Exemplar {
  readonly labels: Record<string, string>;
  readonly value: number;
  readonly timestamp?: number;
}

export interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
  readonly timestamp?: number;
  readonly exemplar?: Exemplar;
}

export interface Family {
  readonly name: string;
  type: string;
  help: string | undefined;
  readonly samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset', 'unknown']);
/** The sample names each family type may have, by suffix. */
const SUFFIXES: Record<string, string[]> = {
  counter: ['_total', '_created'],
  gauge: [''],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  gaugehistogram: ['_bucket', '_gsum', '_gcount'],
  summary: ['', '_sum', '_count', '_created'],
  info: ['_info'],
  stateset: [''],
  unknown: [''],
};

export class ParseError extends Error {
  constructor(line: number, text: string, why: string) {
    super(`line ${line}: ${why}: ${JSON.stringify(text.slice(0, 200))}`);
  }
}

function parseNumber(s: string, fail: (why: string) => never): number {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) fail(`not a number: ${s}`);
  return Number(s);
}

/** Reads `{a="x",b="y"}` at `s[0]`; returns the labels and the rest after `}`. */
function parseLabels(s: string, fail: (why: string) => never): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    if (s[i] === '}') return { labels, rest: s.slice(i + 1) };
    const m = LABEL_NAME.exec(s.slice(i));
    if (!m) fail('bad label name');
    const name = m[0];
    i += name.length;
    if (s[i] !== '=' || s[i + 1] !== '"') fail(`label ${name}: expected ="`);
    i += 2;
    let value = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) fail(`label ${name}: unterminated value`);
      if (c === '"') break;
      if (c === '\\') {
        const e = s[i + 1];
        if (e === 'n') value += '\n';
        else if (e === '\\' || e === '"') value += e;
        else fail(`label ${name}: bad escape \\${e}`);
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
    i++;
    if (name in labels) fail(`label ${name} twice`);
    labels[name] = value;
    if (s[i] === ',') i++;
    else if (s[i] !== '}') fail(`label ${name}: expected , or }`);
  }
}

function familyOf(families: Map<string, Family>, sample: string): Family | undefined {
  for (const [name, f] of families) {
    for (const suffix of SUFFIXES[f.type] ?? ['']) if (sample === name + suffix) return f;
  }
  return undefined;
}

/** Parses a whole exposition; throws ParseError at the first thing the format does not allow. */
export function parseOpenMetrics(text: string, o: { openMetrics?: boolean } = {}): Map<string, Family> {
  const openMetrics = o.openMetrics ?? true;
  const families = new Map<string, Family>();
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new ParseError(lines.length, lines.at(-1) ?? '', 'the text must end with a newline');
  lines.pop();
  let eof = false;
  lines.forEach((line, idx) => {
    const n = idx + 1;
    const fail = (why: string): never => {
      throw new ParseError(n, line, why);
    };
    if (eof) fail('content after # EOF');
    if (line === '# EOF') {
      eof = true;
      return;
    }
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE|UNIT) ([a-zA-Z_:][a-zA-Z0-9_:]*)(?: (.*))?$/.exec(line);
      if (!m) {
        if (openMetrics) fail('a comment that is not HELP, TYPE, UNIT or EOF');
        return;
      }
      const [, kind, name, arg = ''] = m as unknown as [string, string, string, string | undefined];
      let f = families.get(name);
      if (!f) {
        f = { name, type: 'unknown', help: undefined, samples: [] };
        families.set(name, f);
      } else if (f.samples.length > 0) fail(`metadata for ${name} after its samples`);
      if (kind === 'TYPE') {
        if (!TYPES.has(arg)) fail(`unknown type ${arg}`);
        f.type = arg;
      } else if (kind === 'HELP') {
        if (f.help !== undefined) fail(`second HELP for ${name}`);
        f.help = arg;
      }
      return;
    }
    if (line === '') {
      if (openMetrics) fail('empty line');
      return;
    }
    const nm = NAME.exec(line);
    if (!nm) fail('expected a metric name');
    const name = nm![0];
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, fail));
    const [main, exemplarText] = rest.split(' # ', 2) as [string, string | undefined];
    const parts = main.split(' ');
    if (parts[0] !== '' || parts.length < 2 || parts.length > 3) fail('expected " value [timestamp]"');
    const value = parseNumber(parts[1]!, fail);
    const timestamp = parts[2] === undefined ? undefined : parseNumber(parts[2], fail);
    let exemplar: Exemplar | undefined;
    if (exemplarText !== undefined) {
      if (!openMetrics) fail('exemplars exist only in OpenMetrics');
      if (!exemplarText.startsWith('{')) fail('exemplar: expected labels');
      const ex = parseLabels(exemplarText, fail);
      const ep = ex.rest.split(' ');
      if (ep[0] !== '' || ep.length < 2 || ep.length > 3) fail('exemplar: expected " value [timestamp]"');
      const chars = Object.entries(ex.labels).reduce((a, [k, v]) => a + k.length + v.length, 0);
      if (chars > 128) fail('exemplar labels longer than 128 characters');
      exemplar = { labels: ex.labels, value: parseNumber(ep[1]!, fail), timestamp: ep[2] === undefined ? undefined : parseNumber(ep[2], fail) };
    }
    const family = familyOf(families, name) ?? (openMetrics ? undefined : families.get(name));
    if (!family) fail(`sample ${name} of no declared family`);
    if (exemplar && !(name.endsWith('_bucket') || name.endsWith('_total'))) fail('exemplar on a sample that is not a bucket or a counter total');
    family!.samples.push({ name, labels, value, timestamp, exemplar });
  });
  if (openMetrics && !eof) throw new ParseError(lines.length, '', 'no # EOF');
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

/** Buckets ascend by le, their counts never fall, +Inf is there and equals _count. */
function checkHistogram(f: Family): void {
  const series = new Map<string, Sample[]>();
  const counts = new Map<string, number>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}: bucket without le`);
      series.set(key, [...(series.get(key) ?? []), s]);
    } else if (s.name === `${f.name}_count`) counts.set(key, s.value);
  }
  for (const [key, buckets] of series) {
    let prevLe = -Infinity;
    let prev = 0;
    for (const b of buckets) {
      const le = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le);
      if (!(le > prevLe)) throw new Error(`${f.name}${key}: le not ascending`);
      if (b.value < prev) throw new Error(`${f.name}${key}: bucket counts fall`);
      prevLe = le;
      prev = b.value;
    }
    if (prevLe !== Infinity) throw new Error(`${f.name}${key}: no +Inf bucket`);
    if (counts.get(key) !== prev) throw new Error(`${f.name}${key}: +Inf bucket ${prev} ≠ count ${counts.get(key)}`);
  }
}

/** The samples of `family` named `sample` whose labels include `match`. */
export function samplesOf(families: Map<string, Family>, family: string, sample: string, match: Record<string, string> = {}): Sample[] {
  const f = families.get(family);
  if (!f) return [];
  return f.samples.filter((s) => s.name === sample && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}
