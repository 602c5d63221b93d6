import { sieProgram } from './program.js';
import { CommandUsageError, HelpShown, usageHint } from './command.js';
import { UsageError } from './args.js';
import { stopAllProcesses } from '../io/ffmpeg/process.js';
import { redactText } from '../redact.js';

/**
 * `sie COMMAND ...`. Exit codes: 0 done (or help shown), 1 the command failed, 2 a usage error (a bad
 * option or argument, a bad environment variable): then one line names what is wrong, `sie: --port: ...`,
 * and the next says the command's usage.
 */
async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = sieProgram((c) => (code = c));
  // `sie` alone: the list of commands, as `sie --help` prints it.
  if (argv.length === 0) argv = ['--help'];
  // `sie help nosuch`: commander prints the whole help and says nothing of the name; parsed as `sie nosuch`
  // it is an unknown command, said as one (with a suggestion).
  if (argv[0] === 'help' && argv[1] !== undefined && !program.commands.some((c) => c.name() === argv[1])) argv = argv.slice(1);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof HelpShown) return err.exitCode;
    throw err;
  }
  return code;
}

main(process.argv.slice(2)).then(
  async (code) => {
    await stopAllProcesses();
    process.exit(code);
  },
  async (err: unknown) => {
    const usage = err instanceof UsageError;
    const hint = err instanceof CommandUsageError ? `\n${usageHint(err.command)}` : '';
    process.stderr.write(`sie: ${redactText(err instanceof Error ? err.message : String(err))}${hint}\n`);
    await stopAllProcesses();
    process.exit(usage ? 2 : 1);
  },
);
