// Flat config: the recommended JS and typescript-eslint rules, plus the layout of src/ (below).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// ---- Layout of src/: which folder may import which, and which folders are entered only by their index.
// Enforced with no-restricted-imports. Flat config replaces a rule's options per block instead of merging
// them, so every src file gets exactly one block, holding all the patterns that apply to it.

/** Pure code: no I/O, no process wiring. It may import other pure folders and the shared root modules. */
const PURE = ['rules', 'tracking', 'drawing', 'inference', 'config', 'machines', 'pipeline'];
/** What pure code must not reach: the adapters (io), the wiring (actors, engine, events) and the front ends. */
const NOT_FOR_PURE = ['io', 'cli', 'actors', 'engine', 'events', 'bench', 'tools', 'replay'];
/** src/io is the adapters layer: it may use pure types, never the wiring or the front ends above it. */
const NOT_FOR_IO = ['cli', 'actors', 'engine', 'bench', 'tools', 'replay'];

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

/**
 * Temporary: files of the pipeline rewrite that still import rules/events.js, rules/types.js and
 * config/index.js. Once they import rules/index.js and config/body.js, empty this list and delete
 * src/config/index.ts.
 */
const PENDING_PIPELINE_REWRITE = [
  'src/frame.ts',
  'src/actors/liveConfig.ts',
  'src/actors/overlay.ts',
  'src/actors/rules.ts',
  'src/actors/run.ts',
  'src/replay/replay.ts',
];

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** An import reaching src/<dir>, from src itself (./dir) or from a folder below it (../dir, ../../dir). */
function climbsTo(dirs, message) {
  return { regex: `^(\\./|(\\.\\./)+)(${dirs.map(esc).join('|')})(/|$)`, message };
}

function barrelPatterns(importerDir, exempt) {
  const out = [];
  for (const b of BARRELS) {
    if (importerDir === b.dir || importerDir.startsWith(`${b.dir}/`)) continue;
    const leaf = b.leaf ?? b.dir;
    out.push({
      regex: `${b.prefix}${esc(leaf)}/(?!index\\.js$)`,
      message: `src/${b.dir} is entered only by its index.js (${b.why}).`,
    });
  }
  if (!exempt) {
    out.push({ regex: '(^|/)config/index\\.js$', message: 'src/config has no barrel: import the section (body.js, rules.js, webhook.js, …).' });
  }
  return out;
}

function layerPatterns(top) {
  if (PURE.includes(top) || top === '') {
    return [climbsTo(NOT_FOR_PURE, `src/${top || '*.ts'} is pure: it must not import ${NOT_FOR_PURE.join(', ')}.`)];
  }
  if (top === 'io') return [climbsTo(NOT_FOR_IO, `src/io must not import ${NOT_FOR_IO.join(', ')}.`)];
  return [];
}

/** One block per src folder that needs its own options; the most specific folders come last and win. */
function layoutBlocks() {
  const folders = [
    '', ...PURE, 'io', 'io/rtsp', 'io/db/migrations',
    'actors', 'engine', 'events', 'cli', 'bench', 'tools', 'replay',
  ];
  const blocks = [];
  for (const dir of folders) {
    const top = dir.split('/')[0];
    const files = dir === '' ? ['src/*.ts'] : [`src/${dir}/**/*.ts`];
    const rule = (exempt) => ({
      'no-restricted-imports': ['error', { patterns: [...layerPatterns(top), ...barrelPatterns(dir, exempt)] }],
    });
    blocks.push({ files, ignores: PENDING_PIPELINE_REWRITE, rules: rule(false) });
  }
  // The pending files: layering still applies, the barrel rules of rules/ and config/ do not.
  for (const f of PENDING_PIPELINE_REWRITE) {
    const dir = f.includes('/', 4) ? f.slice(4, f.lastIndexOf('/')) : '';
    const top = dir.split('/')[0];
    const patterns = [...layerPatterns(top), ...barrelPatterns(dir, true).filter((p) => !p.message.startsWith('src/rules '))];
    blocks.push({ files: [f], rules: { 'no-restricted-imports': ['error', { patterns }] } });
  }
  return blocks;
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
