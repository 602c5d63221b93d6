import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { COMMANDS, sieProgram } from '../../src/cli/program.js';
import { allCommands, commandPath, optionsOf, type SieCommand } from '../../src/cli/command.js';
import { ENVIRONMENT, type EnvironmentName, type EnvironmentVariable } from '../../src/cli/environment.js';
import { runSie } from '../helpers/media.js';

/**
 * Every command's help, as a user gets it from bin/sie (the compiled dist/), and the README's copy of it.
 * The commands are listed from the program's definition, so a new command or option cannot be missed.
 * README.md's CLI section embeds each `sie ... --help` verbatim between markers; after a change to the
 * CLI, regenerate them with: UPDATE_README=1 npx vitest run test/cli/help.test.ts
 */

const program = sieProgram();
const commands: Command[] = [program, ...allCommands(program)];
/** `[]` for `sie` itself, `['db', 'create']` for `sie db create`. */
const argsOf = (c: Command) => commandPath(c).split(' ').slice(1);

interface Shown {
  code: number | null;
  stdout: string;
  stderr: string;
}
const helpOf = new Map<string, { long: Shown; short: Shown }>();

beforeAll(async () => {
  // Four at a time: 2 × 12 node processes, each loading the whole CLI.
  const queue = [...commands];
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const [long, short] = [await runSie([...argsOf(c), '--help']), await runSie([...argsOf(c), '-h'])];
      helpOf.set(commandPath(c), { long, short });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}, 120_000);

describe('sie <command> --help and -h', () => {
  it('the program has the commands the README and the issue name (the list below is read from it)', () => {
    expect(commands.map(commandPath)).toEqual(
      expect.arrayContaining(['sie', 'sie run', 'sie camera', 'sie engine', 'sie serve', 'sie replay', 'sie bench', 'sie api', 'sie db', 'sie db create', 'sie db migrate', 'sie inspect']),
    );
  });

  it("every option's schema carries its help: a description and, unless it is a flag, a placeholder", () => {
    const walk = (c: SieCommand, prefix: string): string[] => [
      ...optionsOf(c)
        .filter((o) => !o.documented)
        .map((o) => `${prefix} ${c.name} --${o.name}`),
      ...c.subcommands.flatMap((sub) => walk(sub, `${prefix} ${c.name}`)),
    ];
    const undocumented = COMMANDS.flatMap((c) => walk(c, 'sie'));
    expect(undocumented, 'add .meta(help(description, PLACEHOLDER)) to these options').toEqual([]);
  });

  it.each(commands.map((c) => [commandPath(c), c] as const))('%s: exit 0, its own usage on stdout, every option, argument and variable it reads', (path, c) => {
    const { long, short } = helpOf.get(path)!;
    expect(long.code, long.stderr).toBe(0);
    expect(long.stderr).toBe('');
    expect(short).toEqual(long);
    const text = long.stdout;
    expect(text.startsWith(`Usage: ${path} `), text.slice(0, 200)).toBe(true);
    for (const o of c.options) {
      expect(text, `${path}: ${o.long}`).toContain(`  ${o.long}`);
      // What it does and, for an option with a value, its placeholder and default where it has one.
      expect(o.description.length, `${path} ${o.long} has a description`).toBeGreaterThan(10);
    }
    for (const a of c.registeredArguments) expect(text, `${path}: ${a.name()}`).toContain(`  ${a.name()} `);
    for (const sub of c.commands) expect(text, `${path}: ${sub.name()}`).toContain(`  ${sub.name()} `);
    // The same on every terminal (the README holds a copy), and readable on a narrow one.
    for (const line of text.split('\n')) expect(line.length, `${path}: ${line}`).toBeLessThanOrEqual(100);
  });

  it('options show their defaults from the schema, and the environment they read', () => {
    const run = helpOf.get('sie run')!.long.stdout;
    expect(run).toMatch(/--port <PORT> +port of the embedded RTSP server[^]*?\(default: 8554\)/);
    expect(run).toMatch(/--model <PATH> +the ONNX detection model file \(required\)/);
    expect(run).toContain('Environment:\n  SIE_INSPECT');
    const serve = helpOf.get('sie serve')!.long.stdout;
    for (const name of ['SIE_DATABASE_URL', 'SIE_DATA_DIR', 'SIE_MAX_MODEL_BYTES', 'SIE_MEDIA_ROOT', 'SIE_MQTT_URL']) expect(serve).toContain(`  ${name} `);
    const bench = helpOf.get('sie bench')!.long.stdout;
    expect(bench).toMatch(/--duration <DURATION> +how long the soak lasts \(default: 30m\)/);
  });

  it('sie help COMMAND prints the same as sie COMMAND --help', async () => {
    const r = await runSie(['help', 'replay']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(helpOf.get('sie replay')!.long.stdout);
  });
});

describe("README.md's CLI section", () => {
  const readme = () => readFileSync('README.md', 'utf8');
  const begin = (path: string) => `<!-- BEGIN ${path} --help -->`;
  const end = (path: string) => `<!-- END ${path} --help -->`;
  const block = (text: string) => `\n\`\`\`text\n${text.trimEnd()}\n\`\`\`\n`;

  /** The CLI section: from `## CLI` to the next second-level heading. */
  function cliSection(text: string): string {
    const start = text.indexOf('\n## CLI\n');
    expect(start, 'README.md has a ## CLI section').toBeGreaterThan(0);
    const next = text.indexOf('\n## ', start + 1);
    return text.slice(start, next < 0 ? undefined : next);
  }

  it('embeds every command\'s --help verbatim (UPDATE_README=1 rewrites the blocks)', () => {
    let text = readme();
    /** Blocks whose text differs (UPDATE_README=1 rewrites them), and what only an edit can fix. */
    const differ: string[] = [];
    const broken: string[] = [];
    for (const c of commands) {
      const path = commandPath(c);
      const b = begin(path);
      const e = end(path);
      const from = text.indexOf(b);
      const to = text.indexOf(e);
      const want = block(helpOf.get(path)!.long.stdout);
      if (from < 0 || to < from) {
        broken.push(`${path}: no ${b} ... ${e} block (add the two markers to the CLI section)`);
      } else if (text.slice(from + b.length, to) !== want) {
        differ.push(`${path}: its block differs from \`${path} --help\``);
        text = text.slice(0, from + b.length) + want + text.slice(to);
      }
    }
    const known = new Set(commands.map(commandPath));
    for (const m of text.matchAll(/<!-- BEGIN (.+?) --help -->/g)) if (!known.has(m[1]!)) broken.push(`${m[1]}: a block for a command that does not exist`);
    expect(broken).toEqual([]);
    if (process.env.UPDATE_README === '1') writeFileSync('README.md', text);
    else expect(differ, 'regenerate with: UPDATE_README=1 npx vitest run test/cli/help.test.ts').toEqual([]);
  });

  /** The README's table of variables, from the table in src/cli/environment.ts and each command's list. */
  function environmentTable(): string {
    const readers = (name: string) =>
      COMMANDS.filter(function reads(c: SieCommand): boolean {
        return c.environment.includes(name as EnvironmentName) || c.subcommands.some(reads);
      }).map((c) => c.name);
    const rows = Object.entries(ENVIRONMENT).map(([name, v]: [string, EnvironmentVariable]) => `| \`${name}\` | ${readers(name).join(', ')} | ${v.meaning} | ${v.default ?? ''} |`);
    return `\n| variable | read by | what it sets | default |\n|---|---|---|---|\n${rows.join('\n')}\n`;
  }

  it('has the table of environment variables, generated like the help blocks', () => {
    const text = readme();
    const [b, e] = ['<!-- BEGIN environment -->', '<!-- END environment -->'];
    const from = text.indexOf(b);
    const to = text.indexOf(e);
    expect(from >= 0 && to > from, `README.md: ${b} ... ${e}`).toBe(true);
    const updated = text.slice(0, from + b.length) + environmentTable() + text.slice(to);
    if (process.env.UPDATE_README === '1') writeFileSync('README.md', updated);
    else expect(text.slice(from + b.length, to), 'regenerate with: UPDATE_README=1 npx vitest run test/cli/help.test.ts').toBe(environmentTable());
  });

  it('documents every environment variable the commands read, and those of make demo', () => {
    const section = cliSection(readme());
    for (const name of Object.keys(ENVIRONMENT)) expect(section, name).toContain(`\`${name}\``);
    // scripts/demo.sh's own settings: `PORT="${SIE_API_PORT:-8000}"`.
    const demo = [...readFileSync('scripts/demo.sh', 'utf8').matchAll(/\$\{(SIE_[A-Z_]+):-/g)].map((m) => m[1]!);
    expect(demo.length).toBeGreaterThan(0);
    for (const name of new Set(demo)) expect(section, `make demo's ${name}`).toContain(`\`${name}\``);
  });

  it('the table of variables names every variable src/ reads from process.env', () => {
    // Every SIE_ variable read anywhere in src (env.SIE_X, process.env.SIE_X) must be in the table.
    const read = new Set<string>();
    const files = readdirSync('src', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    for (const f of files) for (const m of readFileSync(join('src', f), 'utf8').matchAll(/env\.(SIE_[A-Z_]+)/g)) read.add(m[1]!);
    expect(read.size).toBeGreaterThan(5);
    for (const name of read) expect(Object.keys(ENVIRONMENT), name).toContain(name);
  });
});
