import { describe, expect, it } from 'vitest';
import { LABELS, MODEL, PLAZA, runSie } from '../helpers/media.js';

/**
 * Usage errors as a new user meets them (bin/sie, the compiled dist/): exit 2, stderr's first line names
 * the option or argument and says what is expected, the second gives the command's synopsis. None of
 * these starts a pipeline: they are refused while parsing.
 */

const RUN_USAGE = 'usage: sie run SOURCE --model PATH --labels PATH [options]  (details: sie run --help)';

async function usageError(args: string[]): Promise<string> {
  const r = await runSie(args);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
  expect(r.stdout).toBe('');
  return r.stderr;
}

describe('usage errors name the option or argument, the command, and what is expected', () => {
  it('a SOURCE that is neither a URL nor a file is named as the first argument, not as an option', async () => {
    expect(await usageError(['run', 'no-such-clip.mp4', '--model', MODEL, '--labels', LABELS])).toBe(
      `sie: SOURCE (the 1st argument): not an rtsp:// or rtsps:// URL, nor an existing file\n${RUN_USAGE}\n`,
    );
    // --source does not exist: say what SOURCE is.
    expect(await usageError(['run', '--source', PLAZA])).toMatch(/^sie: --source: not an option of sie run: SOURCE is an argument \(sie run SOURCE --model PATH/);
  });

  it('a missing argument or required option says it is required and what it is', async () => {
    expect(await usageError(['run'])).toMatch(/^sie: SOURCE is required: the camera, an rtsp:\/\/ or rtsps:\/\/ URL/);
    expect(await usageError(['run', PLAZA])).toBe(`sie: --model is required: the ONNX detection model file\n${RUN_USAGE}\n`);
    expect(await usageError(['replay', PLAZA, '--model', MODEL])).toMatch(/^sie: --labels is required: the model's class names/);
    expect(await usageError(['camera'])).toMatch(/^sie: FILE is required: /);
    expect(await usageError(['run', PLAZA, '--model'])).toMatch(/^sie: --model: expects a value \(--model <PATH>\)/);
  });

  it('an unknown option or command is named, with the nearest one', async () => {
    expect(await usageError(['run', PLAZA, '--modle', MODEL])).toBe(`sie: --modle: not an option of sie run (did you mean --model?)\n${RUN_USAGE}\n`);
    expect(await usageError(['engine', '--max-run', '2'])).toMatch(/^sie: --max-run: not an option of sie engine \(did you mean --max-runs\?\)\nusage: sie engine \[options\]/);
    expect(await usageError(['serv'])).toMatch(/^sie: serv: not a command of sie \(did you mean serve\?\)/);
    expect(await usageError(['help', 'serv'])).toMatch(/^sie: serv: not a command of sie \(did you mean serve\?\)\nusage: sie COMMAND/);
    expect(await usageError(['run', PLAZA, 'extra.mp4'])).toMatch(/^sie: unexpected argument: sie run takes only SOURCE/);
  });

  it('a bad value keeps its message from the schema, naming the option', async () => {
    expect(await usageError(['run', PLAZA, '--model', MODEL, '--labels', LABELS, '--port', '99999'])).toMatch(/^sie: --port: Too big: expected number to be <=65535\n/);
    expect(await usageError(['api', '--port', 'eighty'])).toMatch(/^sie: --port: expected a number\nusage: sie api \[options\]/);
  });
});
