import { createScratchDatabase, randomDatabaseUrl as scratchUrl, type ScratchDatabase } from '../../src/io/db/scratch.js';

/** A test file's own database: URL, a migrated pool on it, drop() for afterAll. */
export type TestDatabase = ScratchDatabase;

/** A database URL on the test server with a random name, not yet created. */
export function randomDatabaseUrl(prefix = 'sie_test'): string {
  return scratchUrl(prefix);
}

/**
 * Each test file gets its own database (created, migrated, dropped in afterAll), so files run in
 * parallel without seeing each other's rows, and a failed run leaves nothing that breaks the next.
 */
export function createTestDatabase(opts: { migrate?: boolean; genericPlans?: boolean } = {}): Promise<TestDatabase> {
  return createScratchDatabase('sie_test', opts);
}
