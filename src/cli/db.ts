import { createPool, databaseUrl, ensureDatabase } from '../io/db/pool.js';
import { migrate } from '../io/db/migrate.js';
import { createLogger } from '../log.js';
import { redactText } from '../redact.js';
import { z } from 'zod';
import { defineCommand, defineGroup } from './command.js';

const create = defineCommand({
  name: 'create',
  summary: 'creates the database of SIE_DATABASE_URL if it does not exist',
  description: 'Creates the database SIE_DATABASE_URL names, on its server, if it does not exist yet; says which.',
  options: z.object({}),
  environment: ['SIE_DATABASE_URL'],
  run: async () => {
    const url = databaseUrl();
    const created = await ensureDatabase(url);
    process.stdout.write(`${redactText(url)}: ${created ? 'created' : 'exists already'}\n`);
    return 0;
  },
});

const migrateCommand = defineCommand({
  name: 'migrate',
  summary: 'applies the pending schema migrations (safe to run concurrently and repeatedly)',
  description:
    'Applies the pending schema migrations to the database of SIE_DATABASE_URL, and says which. Safe to run ' +
    'concurrently and repeatedly (sie api, engine and serve also migrate at start).',
  options: z.object({}),
  environment: ['SIE_DATABASE_URL', 'SIE_LOG_LEVEL', 'SIE_LOG_FORMAT'],
  run: async () => {
    const url = databaseUrl();
    const pool = createPool(url, { max: 1 });
    try {
      const { applied } = await migrate(pool, { logger: createLogger({ cmd: 'db' }) });
      process.stdout.write(`${redactText(url)}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}\n`);
    } finally {
      await pool.end();
    }
    return 0;
  },
});

export const dbCommandSpec = defineGroup({
  name: 'db',
  summary: 'the database: create it, migrate it',
  description: 'The PostgreSQL database of SIE_DATABASE_URL: sie db create, then sie db migrate (or let sie api/serve/engine migrate it).',
  subcommands: [create, migrateCommand],
  environment: ['SIE_DATABASE_URL'],
});
