import type { Command } from 'commander';
import { buildProgram, type SieCommand } from './command.js';
import { runCommandSpec } from './run.js';
import { cameraCommandSpec } from './camera.js';
import { engineCommandSpec } from './engine.js';
import { serveCommandSpec } from './serve.js';
import { replayCommandSpec } from './replay.js';
import { benchCommandSpec } from './bench.js';
import { apiCommandSpec } from './api.js';
import { dbCommandSpec } from './db.js';
import { inspectCommandSpec } from './inspect.js';

/** Every command, in the order `sie --help` lists them. */
export const COMMANDS: readonly SieCommand[] = [
  runCommandSpec,
  cameraCommandSpec,
  engineCommandSpec,
  serveCommandSpec,
  replayCommandSpec,
  benchCommandSpec,
  apiCommandSpec,
  dbCommandSpec,
  inspectCommandSpec,
];

const DESCRIPTION =
  'sie — Stream Inference Engine: RTSP cameras in, object detection, tracking and rules (lines, zones, counters, ' +
  'events), annotated RTSP out. sie run for one stream in the foreground; sie serve (or sie api + sie engine) for ' +
  'the service, its runs kept in PostgreSQL.';

/** The `sie` program; `onRun` gets the exit code of the command that ran. */
export function sieProgram(onRun: (code: number) => void = () => undefined): Command {
  return buildProgram(COMMANDS, DESCRIPTION, onRun);
}
