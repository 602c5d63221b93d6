import { pino, type Logger } from 'pino';
import { redactDeep, redactText } from './redact.js';

export type { Logger };

/**
 * Structured logs (pino, JSON to stderr so stdout stays for a command's own output). Every string,
 * nested ones included, passes through the URL redactor: a camera password in a message cannot leak.
 */
export function createLogger(bindings: Record<string, unknown> = {}, level = process.env.SIE_LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid, ...bindings },
      formatters: {
        log(obj) {
          return redactDeep(obj) as Record<string, unknown>;
        },
      },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? redactText(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    pino.destination(2),
  );
}

/** A logger that drops everything, for library code used without one. */
export const silentLogger: Logger = pino({ level: 'silent' });
