import pgListen, { type Options, type Subscriber } from 'pg-listen';
import type { Logger } from '../../log.js';

/** Channels the triggers NOTIFY on (payload: `<pool> <txid>` on sie_runs, migration 0009; the run; the config). */
export const CHANNELS = ['sie_runs', 'sie_run_stop', 'sie_config_changed'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * LISTEN on its own direct connection (PgBouncer in transaction mode drops LISTEN), reconnecting with
 * capped, jittered backoff forever: notifications are only nudges, polling covers the gaps.
 */
export async function listenForNudges(
  databaseUrl: string,
  onNotify: (channel: Channel, payload: string) => void,
  logger: Logger,
  applicationName = 'sie',
  /** Whether notifications are arriving: false from a connection error until LISTEN is set up again. */
  onListening?: (listening: boolean) => void,
): Promise<{ close(): Promise<void> }> {
  // pg-listen is CommonJS with `exports.default`: under NodeNext its default import is the module object.
  type Create = (config: { connectionString: string; application_name: string }, options: Options) => Subscriber;
  const mod = pgListen as unknown as Create | { default: Create };
  const createSubscriber: Create = typeof mod === 'function' ? mod : mod.default;
  const sub: Subscriber = createSubscriber(
    { connectionString: databaseUrl, application_name: applicationName },
    {
      parse: (s: string) => s,
      retryLimit: Number.POSITIVE_INFINITY,
      retryTimeout: Number.MAX_SAFE_INTEGER,
      retryInterval: (attempt: number) => Math.min(60_000, 500 * 2 ** Math.min(attempt, 7)) * (0.5 + Math.random() / 2),
    },
  );
  sub.events.on('error', (err) => {
    logger.warn({ err: err.message }, 'notification listener error');
    onListening?.(false);
  });
  sub.events.on('reconnect', (attempt) => logger.info({ attempt }, 'notification listener reconnecting'));
  let initial = true;
  // Emitted after connect() (before our first LISTEN: that one is reported below) and after each
  // reconnection, once pg-listen has re-issued every LISTEN.
  sub.events.on('connected', () => {
    if (!initial) onListening?.(true);
  });
  for (const ch of CHANNELS) sub.notifications.on(ch, (payload: unknown) => onNotify(ch, String(payload ?? '')));
  try {
    await sub.connect();
    // One connection runs one query at a time: LISTEN to the channels one after the other.
    for (const ch of CHANNELS) await sub.listenTo(ch);
    initial = false;
    onListening?.(true);
  } catch (err) {
    // Half set up: close the connection rather than leak it; the caller retries.
    await sub.close().catch(() => undefined);
    throw err;
  }
  return { close: () => sub.close() };
}
