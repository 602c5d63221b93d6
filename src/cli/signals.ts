import type { Logger } from '../log.js';
import { stopAllProcesses } from '../io/ffmpeg/process.js';

/** SIGTERM and SIGINT (in any mix) it takes to force an exit: dockerd's rule, "3 interrupts". */
export const FORCE_AFTER_SIGNALS = 3;

/** The exit status of a process ended by `signal`, as a shell reports it (128 + the signal's number). */
function signalExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 143;
}

/**
 * Ends the process by `signal` itself, the handlers removed: the parent sees what a shell shows as
 * 128 + n, and nothing runs at exit. process.exit() would run Node's teardown while inference threads may
 * be mid-call, which aborts in onnxruntime's addon ("terminate called after throwing Napi::Error").
 * process.exit stays as the fallback should the signal not end it (its default action changed elsewhere).
 */
function dieBy(signal: NodeJS.Signals): void {
  process.removeAllListeners('SIGTERM');
  process.removeAllListeners('SIGINT');
  process.kill(process.pid, signal);
  setTimeout(() => process.exit(signalExitCode(signal)), 200);
}

/** The same signal again within this many ms is one sending delivered twice, not a second request. */
export const DUPLICATE_WINDOW_MS = 100;

/** What one SIGTERM/SIGINT means, given those before it. */
export type ShutdownStep =
  | { kind: 'drain'; count: 1 }
  | { kind: 'duplicate'; count: number; afterMs: number }
  | { kind: 'repeat'; count: number }
  | { kind: 'force'; count: number }
  | { kind: 'exiting'; count: number };

/**
 * The counting, apart from the process: each signal in, the step it means out. `now` in ms, monotonic.
 * A signal identical to the previous one and within DUPLICATE_WINDOW_MS of it is not counted: `timeout`
 * sends its SIGTERM to the child and then to the child's process group, and a terminal's Ctrl-C reaches a
 * wrapper and its child together while the wrapper forwards its own, so one request often arrives twice
 * (the kernel merges the two only when neither has been handled yet). Counted, two such requests would
 * force an exit; a person or an orchestrator repeating itself is slower than 100 ms.
 */
export function shutdownSteps(now: () => number = () => performance.now()): (signal: NodeJS.Signals) => ShutdownStep {
  let count = 0;
  let last: { signal: NodeJS.Signals; at: number } | undefined;
  return (signal) => {
    const at = now();
    const previous = last;
    last = { signal, at };
    if (count >= FORCE_AFTER_SIGNALS) return { kind: 'exiting', count };
    if (previous && previous.signal === signal && at - previous.at < DUPLICATE_WINDOW_MS) {
      return { kind: 'duplicate', count, afterMs: Math.round(at - previous.at) };
    }
    count += 1;
    if (count === 1) return { kind: 'drain', count: 1 };
    return count < FORCE_AFTER_SIGNALS ? { kind: 'repeat', count } : { kind: 'force', count };
  };
}

/**
 * Shutdown signals for the long-running commands (`sie engine`, `sie serve`).
 *
 * - The first SIGTERM or SIGINT starts the graceful drain (runs released to pending for another engine,
 *   or stopped where a stop was requested; ffmpeg children reaped; the engine row removed).
 * - The second is logged ("already draining") and the drain goes on: orchestrators and impatient scripts
 *   repeat SIGTERM, and Node's default for an unhandled signal is to die at once, which would abandon the
 *   release half-way. The same signal again within 100 ms is logged and not counted (see shutdownSteps).
 * - The third forces (dockerd's rule): the exit is logged, the ffmpeg children get SIGTERM (bounded wait),
 *   and the process ends by that signal (a shell shows 130 for SIGINT, 143 for SIGTERM) without releasing
 *   its runs: another engine takes them once their lease expires (--lease-ttl). On a terminal that is
 *   Ctrl-C three times. SIGKILL needs no handler and remains the last resort.
 *
 * Every signal is logged. Returns the first signal; the handlers stay installed until the process exits.
 */
export function waitForShutdownSignal(logger: Logger, what: string): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const step = shutdownSteps();
    let first: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      const s = step(signal);
      switch (s.kind) {
        case 'drain':
          first = signal;
          logger.info(
            { signal, count: s.count },
            `${what}: ${signal} received: draining (releasing runs); ${FORCE_AFTER_SIGNALS - 1} more SIGTERM/SIGINT force an exit without the release`,
          );
          resolve(signal);
          return;
        case 'duplicate':
          logger.info(
            { signal, count: s.count, afterMs: s.afterMs },
            `${what}: ${signal} received again ${s.afterMs} ms after the last: one request delivered twice (to the process and its group), not counted`,
          );
          return;
        case 'repeat':
          logger.warn(
            { signal, count: s.count, first },
            `${what}: ${signal} received: already draining, carrying on (signal ${s.count} of ${FORCE_AFTER_SIGNALS}; one more forces an exit without releasing runs)`,
          );
          return;
        case 'exiting':
          logger.warn({ signal, count: s.count }, `${what}: ${signal} received: already exiting`);
          return;
        case 'force':
          logger.error(
            { signal, count: s.count, first },
            `${what}: ${signal} received: forced exit during shutdown (signal ${s.count} of ${FORCE_AFTER_SIGNALS}); runs not released (another engine takes them when their lease expires)`,
          );
          void stopAllProcesses(500).finally(() => dieBy(signal));
          setTimeout(() => dieBy(signal), 1500).unref();
      }
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
