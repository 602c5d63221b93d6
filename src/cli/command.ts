import { Command, CommanderError, Option, type Help } from 'commander';
import { z } from 'zod';
import { ENVIRONMENT, type EnvironmentName } from './environment.js';
import { UsageError, parseOptions, type OptionHelp, type Positional } from './args.js';

/**
 * Every `sie` command is declared once, as data: its zod schema holds each option (validation, default,
 * and the help in `.meta({ description, arg })`), and commander (buildProgram) turns that into parsing,
 * per-command `--help`/`-h`, usage errors and "did you mean" suggestions. Values reach the schema as the
 * strings the user typed: the schema, not commander, validates and applies defaults, so the defaults
 * shown in --help are read from the schema and cannot drift from the ones applied.
 */

/** A section of a command's help: a heading, then terms with their text (wrapped), then a paragraph. */
export interface HelpSection {
  readonly heading: string;
  readonly items?: readonly (readonly [term: string, text: string])[];
  readonly text?: string;
}

export interface CommandSpec<S extends z.ZodObject, T> {
  /** The word after `sie` (or after the group's word, for `sie db create`). */
  readonly name: string;
  /** One line, for the list of commands in `sie --help`. */
  readonly summary: string;
  /** What it does, for its own --help (paragraphs; wrapped to the help's width). */
  readonly description: string;
  /** Positional arguments, in order; each is a key of `options` too, so one schema validates everything. */
  readonly arguments?: readonly Positional[];
  /** Every option, by its long name without `--`, and the positionals' keys. */
  readonly options: S;
  /** Validation of what was given, when `options` alone cannot do it (sie bench's modes). Default: `options`. */
  readonly parse?: (raw: Record<string, unknown>) => T;
  /** The environment variables it reads, listed in its --help. */
  readonly environment?: readonly EnvironmentName[];
  /** Command lines, each with a `# why` comment, shown under Examples:. */
  readonly examples?: readonly string[];
  /** Sections after the options (sie bench's modes): what does not belong to a single option. */
  readonly notes?: readonly HelpSection[];
  readonly run: (o: T) => Promise<number>;
}

/** A command with its types erased, for the program's list. */
export interface SieCommand {
  readonly name: string;
  readonly summary: string;
  readonly description: string;
  readonly arguments: readonly Positional[];
  readonly options: z.ZodObject;
  readonly environment: readonly EnvironmentName[];
  readonly examples: readonly string[];
  readonly notes: readonly HelpSection[];
  /** Validates the raw values and runs; undefined for a group (`sie db`), which only holds subcommands. */
  readonly execute: ((raw: Record<string, unknown>) => Promise<number>) | undefined;
  readonly subcommands: readonly SieCommand[];
}

export function defineCommand<S extends z.ZodObject, T = z.output<S>>(spec: CommandSpec<S, T>): SieCommand {
  const args = spec.arguments ?? [];
  const parse = spec.parse ?? ((raw: Record<string, unknown>) => parseOptions(spec.options, raw, args) as T);
  return {
    name: spec.name,
    summary: spec.summary,
    description: spec.description,
    arguments: args,
    options: spec.options,
    environment: spec.environment ?? [],
    examples: spec.examples ?? [],
    notes: spec.notes ?? [],
    execute: async (raw) => spec.run(parse(raw)),
    subcommands: [],
  };
}

/** A command that only groups subcommands (`sie db create|migrate`). */
export function defineGroup(spec: { name: string; summary: string; description: string; subcommands: readonly SieCommand[]; environment?: readonly EnvironmentName[] }): SieCommand {
  return {
    ...spec,
    arguments: [],
    options: z.object({}),
    environment: spec.environment ?? [],
    examples: [],
    notes: [],
    execute: undefined,
  };
}

/** An option's help, default and kind, read from its schema. */
export interface OptionInfo {
  readonly name: string;
  readonly description: string;
  readonly arg: string | undefined;
  readonly required: boolean;
  readonly defaultText: string | undefined;
  readonly choices: readonly string[] | undefined;
  readonly group: string | undefined;
  /** Its schema has a description and, unless it is a flag, a placeholder. */
  readonly documented: boolean;
}

const UNDOCUMENTED = '(undocumented)';

type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; defaultValue?: unknown; values?: readonly unknown[]; entries?: Record<string, unknown> };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Down to the type under optional/default/pipe wrappers: `z.coerce.number().default(5)` → the number. */
function innermost(s: z.ZodType): z.ZodType {
  for (;;) {
    const d = defOf(s);
    if ((d.type === 'optional' || d.type === 'default' || d.type === 'nullable' || d.type === 'prefault') && d.innerType) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else return s;
  }
}

function defaultOf(s: z.ZodType): unknown {
  for (;;) {
    const d = defOf(s);
    if (d.type === 'default') return d.defaultValue;
    if ((d.type === 'optional' || d.type === 'nullable') && d.innerType) s = d.innerType;
    else return undefined;
  }
}

/**
 * An option's help from its schema. One without `.meta(help(...))` still parses (the command must not
 * break over its documentation) but reads "(undocumented)" in --help, and test/cli/help.test.ts fails.
 */
export function optionInfo(name: string, schema: z.ZodType): OptionInfo {
  const meta = (schema.meta() ?? {}) as Partial<OptionHelp>;
  const inner = defOf(innermost(schema));
  const flag = inner.type === 'boolean' || (inner.type === 'literal' && inner.values?.[0] === true);
  const value = defaultOf(schema);
  return {
    name,
    description: meta.description ?? UNDOCUMENTED,
    arg: flag ? undefined : (meta.arg ?? 'VALUE'),
    documented: meta.description !== undefined && (flag || meta.arg !== undefined),
    required: !schema.safeParse(undefined).success,
    defaultText: meta.defaultText ?? (value === undefined || value === false ? undefined : String(value)),
    choices: inner.type === 'enum' && inner.entries ? Object.keys(inner.entries) : undefined,
    group: meta.group,
  };
}

/** The options of a command, positionals left out, in the schema's order. */
export function optionsOf(c: SieCommand): OptionInfo[] {
  const positional = new Set(c.arguments.map((a) => a.key));
  return Object.entries(c.options.shape)
    .filter(([k]) => !positional.has(k))
    .map(([k, s]) => optionInfo(k, s as z.ZodType));
}

/** `SOURCE --model PATH --labels PATH [options]`: the arguments and required options, the rest as [options]. */
export function synopsis(c: SieCommand): string {
  const opts = optionsOf(c);
  const required = opts.filter((o) => o.required).map((o) => `--${o.name}${o.arg ? ` ${o.arg}` : ''}`);
  const optional = opts.some((o) => !o.required) ? ['[options]'] : [];
  return [...c.arguments.map((a) => a.name), ...required, ...optional].join(' ');
}

function optionDescription(o: OptionInfo): string {
  const extra = [o.required ? 'required' : undefined, o.choices ? `one of: ${o.choices.join(', ')}` : undefined, o.defaultText !== undefined ? `default: ${o.defaultText}` : undefined];
  const tail = extra.filter(Boolean).join('; ');
  return tail ? `${o.description} (${tail})` : o.description;
}

/** Thrown out of commander's parsing (exitOverride): help was shown (exit 0), or a usage error (exit 2). */
export class HelpShown extends Error {
  override name = 'HelpShown';
  constructor(readonly exitCode: number) {
    super('help shown');
  }
}

/** `sie run`, `sie db create`: the command as a user types it. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Commander's error, said the way the rest of sie says it: the option or argument first, then what is expected. */
function explain(cmd: Command, err: CommanderError, spec: SieCommand | undefined): string {
  const quoted = /'([^']*)'/.exec(err.message)?.[1] ?? '';
  const path = commandPath(cmd);
  const suggestion = /\(Did you mean ([^?]+)\?\)/.exec(err.message)?.[1];
  const didYouMean = suggestion ? ` (did you mean ${suggestion}?)` : '';
  switch (err.code) {
    case 'commander.unknownOption': {
      const positional = spec?.arguments.find((a) => `--${a.key}` === quoted.split('=')[0]);
      if (positional) return `${quoted}: not an option of ${path}: ${positional.name} is an argument (${path} ${synopsis(spec!)})`;
      return `${quoted}: not an option of ${path}${didYouMean}`;
    }
    case 'commander.unknownCommand':
      return `${quoted}: not a command of ${path}${didYouMean}`;
    case 'commander.missingArgument': {
      const a = spec?.arguments.find((x) => x.name === quoted);
      return `${quoted} is required: ${a ? a.description : 'a positional argument'}`;
    }
    case 'commander.optionMissingArgument':
      return `${quoted.split(' ')[0]}: expects a value (${quoted})`;
    case 'commander.excessArguments': {
      const expected = spec?.arguments.map((a) => a.name).join(' ');
      return `unexpected argument: ${path} takes ${expected ? `only ${expected}` : 'no arguments'}, options start with --`;
    }
    default:
      return err.message.replace(/^error: /, '');
  }
}

/** A usage error from parsing, with the command it belongs to (for the `usage:` line under the message). */
export class CommandUsageError extends UsageError {
  constructor(message: string, readonly command: Command) {
    super(message);
  }
}

const HELP_WIDTH = 100;

function itemList(helper: Help, heading: string, items: readonly (readonly [string, string])[]): string {
  const width = Math.max(...items.map(([t]) => t.length));
  return helper
    .formatItemList(heading, items.map(([t, d]) => helper.formatItem(t, width, d, helper)), helper)
    .join('\n')
    .trimEnd();
}

function environmentSection(helper: Help, names: readonly EnvironmentName[]): string {
  return itemList(
    helper,
    'Environment:',
    names.map((n) => {
      const v: { meaning: string; default?: string } = ENVIRONMENT[n];
      return [n, v.default ? `${v.meaning} (default: ${v.default})` : v.meaning] as const;
    }),
  );
}

function addCommand(parent: Command, c: SieCommand, onRun: (code: number) => void): void {
  const cmd = parent.command(c.name).summary(c.summary).description(c.description);
  cmd.exitOverride((err) => {
    if (err.code === 'commander.helpDisplayed') throw new HelpShown(0);
    // `sie db` alone: commander printed db's help on stderr; a usage error, nothing more to say.
    if (err.code === 'commander.help') throw new HelpShown(err.exitCode === 0 ? 0 : 2);
    throw new CommandUsageError(explain(cmd, err, c), cmd);
  });
  for (const a of c.arguments) cmd.argument(`<${a.name}>`, a.description);
  const options = optionsOf(c);
  for (const o of options) {
    const option = new Option(o.arg ? `--${o.name} <${o.arg}>` : `--${o.name}`, optionDescription(o));
    cmd.addOption(o.group ? option.helpGroup(o.group) : option);
  }
  cmd.usage(c.subcommands.length === 0 ? synopsis(c) : 'COMMAND [options]');
  cmd.addHelpText('after', ({ command }) => {
    const helper = command.createHelp();
    const parts: string[] = [];
    for (const n of c.notes) {
      const items = n.items && n.items.length > 0 ? itemList(helper, n.heading, n.items) : n.heading;
      const text = n.text ? helper.boxWrap(n.text, HELP_WIDTH - 2).replace(/^/gm, '  ') : undefined;
      parts.push(`\n${items}${text ? `\n${text}` : ''}`);
    }
    if (c.environment.length > 0) parts.push(`\n${environmentSection(helper, c.environment)}`);
    if (c.examples.length > 0) parts.push(`\nExamples:\n${c.examples.map((e) => `  ${e}`).join('\n')}`);
    return parts.join('\n');
  });
  for (const sub of c.subcommands) addCommand(cmd, sub, onRun);
  if (c.execute) {
    const execute = c.execute;
    cmd.action(async (...received: unknown[]) => {
      const raw: Record<string, unknown> = {};
      c.arguments.forEach((a, i) => (raw[a.key] = received[i]));
      for (const o of cmd.options) {
        const value = cmd.getOptionValue(o.attributeName()) as unknown;
        if (value !== undefined) raw[o.long!.slice(2)] = value;
      }
      try {
        onRun(await execute(raw));
      } catch (err) {
        if (err instanceof UsageError && !(err instanceof CommandUsageError)) throw new CommandUsageError(err.message, cmd);
        throw err;
      }
    });
  }
}

/**
 * The `sie` program: one commander command per SieCommand, every one with -h/--help, strict options
 * (an unknown one is an error with a suggestion) and a fixed help width, so that the help text (and the
 * README's copy of it) is the same on every terminal. `onRun` receives the exit code of the command run.
 */
export function buildProgram(commands: readonly SieCommand[], description: string, onRun: (code: number) => void): Command {
  const program = new Command('sie')
    .description(description)
    .usage('COMMAND [options]')
    .configureHelp({ helpWidth: HELP_WIDTH, sortOptions: false, sortSubcommands: false })
    // Errors are printed by main (one line naming the option, then the usage): commander prints none.
    .configureOutput({ outputError: () => undefined })
    .showSuggestionAfterError(true)
    .helpOption('-h, --help', 'show this help')
    .helpCommand('help [COMMAND]', "show this help, or COMMAND's");
  program.exitOverride((err) => {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help') throw new HelpShown(err.exitCode === 0 ? 0 : 2);
    throw new CommandUsageError(explain(program, err, undefined), program);
  });
  for (const c of commands) addCommand(program, c, onRun);
  return program;
}

/** Every command under `program`, groups and their subcommands included (for the tests). */
export function allCommands(program: Command): Command[] {
  return program.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/** The line printed under a usage error: `usage: sie run SOURCE ... [options]  (details: sie run --help)`. */
export function usageHint(cmd: Command): string {
  const path = commandPath(cmd);
  return `usage: ${path} ${cmd.usage()}  (details: ${path} --help)`;
}
