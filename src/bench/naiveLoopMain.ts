import { runNaiveLoop } from './naiveLoop.js';

/**
 * The naive loop as a process of its own (`sie bench` starts it), so that its CPU time and memory are
 * measured apart from the bench's. Arguments: one JSON object of NaiveLoopOptions (without onStart).
 * Prints `naive: start` before the first frame and `naive: N frames in S s` at the end.
 */
const o = JSON.parse(process.argv[2] ?? '{}') as Parameters<typeof runNaiveLoop>[0];
runNaiveLoop({ ...o, onStart: () => process.stdout.write('naive: start\n') }).then(
  (r) => {
    process.stdout.write(`naive: ${r.frames} frames in ${r.seconds.toFixed(3)} s\n`);
    process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`naive: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
