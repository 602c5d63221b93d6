import { cameraCommand, cameraUsage } from './camera.js';
import { runCommand, runUsage } from './run.js';
import { engineCommand, engineUsage } from './engine.js';
import { apiCommand, apiUsage } from './api.js';
import { dbCommand, dbUsage } from './db.js';
import { serveCommand, serveUsage } from './serve.js';
import { replayCommand, replayUsage } from './replay.js';
import { benchCommand, benchUsage } from './bench.js';
import { inspectCommand, inspectUsage } from './inspect.js';
import { UsageError } from './args.js';
import { stopAllProcesses } from '../io/ffmpeg/process.js';
import { redactText } from '../redact.js';

/** Each command's usage, in the order `sie help` lists them; `sie COMMAND --help` (or -h) prints its own. */
const commandUsage: Record<string, string> = {
  run: runUsage,
  camera: cameraUsage,
  engine: engineUsage,
  serve: serveUsage,
  replay: replayUsage,
  bench: benchUsage,
  api: apiUsage,
  db: dbUsage,
  inspect: inspectUsage,
};

const usage = `sie — Stream Inference Engine\n\n${Object.values(commandUsage).join('\n\n')}\n`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const own = cmd === undefined ? undefined : commandUsage[cmd];
  if (own && rest.some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(`${own}\n`);
    return 0;
  }
  switch (cmd) {
    case 'run':
      return runCommand(rest);
    case 'replay':
      return replayCommand(rest);
    case 'bench':
      return benchCommand(rest);
    case 'serve':
      return serveCommand(rest);
    case 'engine':
      return engineCommand(rest);
    case 'api':
      return apiCommand(rest);
    case 'db':
      return dbCommand(rest);
    case 'inspect':
      return inspectCommand(rest);
    case 'camera':
      await cameraCommand(rest);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(usage);
      return 0;
    default:
      throw new UsageError(`unknown command "${cmd}"\n\n${usage}`);
  }
}

main(process.argv.slice(2)).then(
  async (code) => {
    await stopAllProcesses();
    process.exit(code);
  },
  async (err: unknown) => {
    const usageErr = err instanceof UsageError || (err instanceof Error && err.name === 'TypeError' && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'));
    process.stderr.write(`sie: ${redactText(err instanceof Error ? err.message : String(err))}\n`);
    await stopAllProcesses();
    process.exit(usageErr ? 2 : 1);
  },
);
