import { createPool, databaseUrl, ensureDatabase } from '../io/db/pool.js';
import { migrate } from '../io/db/migrate.js';
import { createLogger } from '../log.js';
import { redactText } from '../redact.js';
import { UsageError } from './args.js';

export const dbUsage = `sie db create|migrate
  create: creates the database of SIE_DATABASE_URL if it does not exist (postgres://postgres@127.0.0.1:5432/sie).
  migrate: applies the pending schema migrations (safe to run concurrently and repeatedly).`;

export async function dbCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"\n${dbUsage}`);
  const url = databaseUrl();
  switch (sub) {
    case 'create': {
      const created = await ensureDatabase(url);
      process.stdout.write(`${redactText(url)}: ${created ? 'created' : 'exists already'}\n`);
      return 0;
    }
    case 'migrate': {
      const pool = createPool(url, { max: 1 });
      try {
        const { applied } = await migrate(pool, { logger: createLogger({ cmd: 'db' }) });
        process.stdout.write(`${redactText(url)}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}\n`);
      } finally {
        await pool.end();
      }
      return 0;
    }
    default:
      throw new UsageError(`${sub === undefined ? 'missing' : `unknown`} db command${sub ? ` "${sub}"` : ''}\n${dbUsage}`);
  }
}
