import type { Logger } from '../log.js';
import { stopAllProcesses } from '../io/ffmpeg/process.js';

/**
 * Shutdown signals for the long-running commands (`sie engine`, `sie serve`).
 *
 * - The first SIGTERM or SIGINT starts the graceful shutdown (runs released, children reaped).
 * - A further SIGTERM is logged ("already shutting down") and otherwise ignored: orchestrators and
 *   impatient scripts repeat SIGTERM, and Node's default for an unhandled SIGTERM is to die at once,
 *   which would abandon the release half-way and leave the runs to wait for the lease to expire.
 * - A SIGINT after the first signal (Ctrl-C pressed again) forces: the ffmpeg children are sent SIGTERM
 *   (bounded wait), the exit is logged, and the process exits 130 without releasing its runs (the lease
 *   TTL hands them on). SIGKILL remains the operator's last resort, as always.
 *
 * Returns the first signal; the handlers stay installed until the process exits.
 */
export function waitForShutdownSignal(logger: Logger, what: string): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let first: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (first === undefined) {
        first = signal;
        resolve(signal);
        return;
      }
      if (signal === 'SIGTERM') {
        logger.warn({ signal, first }, `${what} already shutting down; this signal is ignored (SIGINT forces an exit)`);
        return;
      }
      logger.error({ signal, first }, `${what}: forced exit during shutdown; runs not released (their lease expires)`);
      const exit = (): never => process.exit(130);
      setTimeout(exit, 1500).unref();
      void stopAllProcesses(500).finally(exit);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
