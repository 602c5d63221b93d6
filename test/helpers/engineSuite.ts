import { afterAll, afterEach, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './db.js';
import { insertModelAndConfig } from './engineFixtures.js';
import { killAll } from './processes.js';

/**
 * The hooks of a test file that starts engines: its own database with the shared model and a config in it
 * (handed to `ready` before the first test), every child killed after each test, the database dropped at
 * the end.
 */
export function useEngineDatabase(ready: (fixture: { db: TestDatabase; configId: string }) => void): void {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    const { configId } = await insertModelAndConfig(db.pool);
    ready({ db, configId });
  });
  afterEach(async () => {
    await killAll();
  });
  afterAll(async () => {
    await db?.drop();
  });
}
