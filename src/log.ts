import { pino, type DestinationStream, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import { redactDeep, redactText } from './redact.js';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

/**
 * `SIE_LOG_FORMAT`: `json` (one object a line, for collectors) or `pretty` (one readable line per entry,
 * coloured, for people); unset: pretty when stderr is a terminal, JSON otherwise (a pipe, a file, a
 * container's log driver), as the ecosystem's tools do.
 */
export function logFormat(env: NodeJS.ProcessEnv = process.env, isTTY = process.stderr.isTTY === true): LogFormat {
  const v = env.SIE_LOG_FORMAT;
  if (v === undefined || v === '') return isTTY ? 'pretty' : 'json';
  if (v === 'json' || v === 'pretty') return v;
  throw new Error(`SIE_LOG_FORMAT: expected json or pretty, got ${JSON.stringify(v.slice(0, 40))}`);
}

/** Where log lines go: stderr, as JSON or through pino-pretty, synchronously either way. */
function destination(format: LogFormat): DestinationStream {
  // Synchronous: a process that ends by its own signal (a forced exit) or crashes loses no line; logs are
  // never per frame, so the writes cost nothing that matters.
  if (format === 'json') return pino.destination({ dest: 2, sync: true });
  return PinoPretty({
    destination: 2,
    sync: true,
    colorize: process.stderr.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
  });
}

/**
 * Structured logs (pino to stderr so stdout stays for a command's own output; JSON or pretty, see
 * logFormat). Every string, nested ones included, passes through the URL redactor: a camera password in a
 * message cannot leak.
 */
export function createLogger(bindings: Record<string, unknown> = {}, level = process.env.SIE_LOG_LEVEL ?? 'info', format = logFormat()): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid, ...bindings },
      // What a request log line must say (Fastify logs its request and reply under these keys); the URL
      // goes through the redactor, as a query may carry a camera URL.
      serializers: {
        req: (r: { method?: string; url?: string; ip?: string }) => ({ method: r.method, url: redactText(String(r.url ?? '')), remoteAddress: r.ip }),
        res: (r: { statusCode?: number }) => ({ statusCode: r.statusCode }),
      },
      formatters: {
        log(obj) {
          // Request and reply objects are left to the serializers above (run after this; they redact the
          // URL): redacting them here copied only their own fields and logged `{}`.
          const { req, res, ...rest } = obj;
          const out = redactDeep(rest) as Record<string, unknown>;
          if (req !== undefined) out.req = req;
          if (res !== undefined) out.res = res;
          return out;
        },
      },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? redactText(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    destination(format),
  );
}

/** A logger that drops everything, for library code used without one. */
export const silentLogger: Logger = pino({ level: 'silent' });
