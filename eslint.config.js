// Flat config: the recommended JS and typescript-eslint rules, plus the layout of src/ (below).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// ---- Layout of src/: which folder may import which, and which folders are entered only by their index.
// Enforced with no-restricted-imports. Flat config replaces a rule's options per block instead of merging
// them, so every src file gets exactly one block, holding all the patterns that apply to it.

/** Pure code: no I/O, no process wiring. It may import other pure folders and the shared root modules. */
const PURE = ['rules', 'tracking', 'drawing', 'inference', 'config', 'machines', 'pipeline', 'accuracy'];
/** What pure code must not reach: the adapters (io), the wiring (actors, engine, events) and the front ends. */
const NOT_FOR_PURE = ['io', 'cli', 'actors', 'engine', 'events', 'bench', 'tools', 'replay'];
/** src/io is the adapters layer: it may use pure types, never the wiring or the front ends above it. */
const NOT_FOR_IO = ['cli', 'actors', 'engine', 'bench', 'tools', 'replay'];
/** Adapters outside src/io, with io's rule: src/observability (the OpenTelemetry SDK's wiring). */
const ADAPTERS = ['io', 'observability'];
/** Pure files inside an adapter folder: the logic kept apart from the SDK it feeds, with pure code's rule. */
const PURE_FILES = ['observability/tracingSpans.ts', 'observability/tracingSettings.ts'];

/**
 * Folders whose index.ts is their only import surface from outside them. `prefix` matches what precedes
 * the folder name in any import specifier that reaches it (from anywhere in src), so that `config/rules.js`
 * is not taken for `rules/`.
 */
const BARRELS = [
  { dir: 'rules', prefix: '(^|\\./|\\.\\./)', why: 'the rules engine, its events and counters' },
  { dir: 'io/rtsp', prefix: '(^|\\.\\./|/io/)', leaf: 'rtsp', why: 'the embedded RTSP server package' },
  { dir: 'io/db/migrations', prefix: '(^|/)', leaf: 'migrations', why: 'the ordered migration list' },
];

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** An import reaching src/<dir>, from src itself (./dir) or from a folder below it (../dir, ../../dir). */
function climbsTo(dirs, message) {
  return { regex: `^(\\./|(\\.\\./)+)(${dirs.map(esc).join('|')})(/|$)`, message };
}

function barrelPatterns(importerDir) {
  const out = [];
  for (const b of BARRELS) {
    if (importerDir === b.dir || importerDir.startsWith(`${b.dir}/`)) continue;
    const leaf = b.leaf ?? b.dir;
    out.push({
      regex: `${b.prefix}${esc(leaf)}/(?!index\\.js$)`,
      message: `src/${b.dir} is entered only by its index.js (${b.why}).`,
    });
  }
  return out;
}

function layerPatterns(top) {
  if (PURE.includes(top) || top === '') {
    return [climbsTo(NOT_FOR_PURE, `src/${top || '*.ts'} is pure: it must not import ${NOT_FOR_PURE.join(', ')}.`)];
  }
  if (ADAPTERS.includes(top)) return [climbsTo(NOT_FOR_IO, `src/${top} must not import ${NOT_FOR_IO.join(', ')}.`)];
  return [];
}

/** One block per src folder that needs its own options; the most specific folders come last and win. */
function layoutBlocks() {
  const folders = [
    '', ...PURE, 'io', 'io/rtsp', 'io/db/migrations',
    'actors', 'engine', 'events', 'cli', 'bench', 'tools', 'replay', 'observability',
  ];
  const patternsFor = (dir) => [...layerPatterns(dir.split('/')[0]), ...barrelPatterns(dir)];
  const rule = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
  const pureFile = (file) => {
    const dir = file.split('/').slice(0, -1).join('/');
    const msg = `src/${file} is pure: it must not import ${NOT_FOR_PURE.join(', ')}.`;
    return { files: [`src/${file}`], rules: rule([climbsTo(NOT_FOR_PURE, msg), ...barrelPatterns(dir)]) };
  };
  return [
    ...folders.map((dir) => ({
      files: dir === '' ? ['src/*.ts'] : [`src/${dir}/**/*.ts`],
      rules: rule(patternsFor(dir)),
    })),
    ...PURE_FILES.map(pureFile),
  ];
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.sie/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['bin/*', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  ...layoutBlocks(),
);
