import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from 'pg';
import { stopAllProcesses } from '../../src/io/ffmpeg/process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startEngine, stopAllEngines } from '../helpers/engineHarness.js';
import { getRun, insertModelAndConfig, insertRun } from '../helpers/engineFixtures.js';

let db: TestDatabase;
let configId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  ({ configId } = await insertModelAndConfig(db.pool));
});

afterAll(async () => {
  await stopAllProcesses();
  await db?.drop();
});

describe('engine: drain', () => {
  it('a SIGTERM while a claim is in flight releases the runs that claim took (none is left owned by nobody)', async () => {
    // The claim statement runs in the database, but its answer reaches the engine only once the drain has
    // had its chance to unregister the engine (or, if the drain waits for the claim, a moment later).
    let claimed!: () => void;
    const claimedInDb = new Promise<void>((r) => (claimed = r));
    let openGate!: () => void;
    const gate = new Promise<void>((r) => (openGate = r));
    const pool = new Proxy(db.pool, {
      get(target, prop, receiver) {
        if (prop !== 'query') {
          const v = Reflect.get(target, prop, receiver) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        }
        return async (...args: unknown[]) => {
          // A string, or a named statement ({ name, text, values }: the claim is one).
          const text = typeof args[0] === 'string' ? args[0] : ((args[0] as { text?: string } | undefined)?.text ?? '');
          const result = await (target.query as (...a: unknown[]) => Promise<unknown>)(...args);
          if (text.includes('FOR UPDATE SKIP LOCKED') && text.includes('picked')) {
            claimed();
            setTimeout(openGate, 1000);
            await gate;
          } else if (text.startsWith('DELETE FROM engines WHERE id')) {
            openGate();
          }
          return result;
        };
      },
    }) as Pool;
    const id = await insertRun(db.pool, configId, 'rtsp://127.0.0.1:1/none');
    await startEngine({ pool, url: db.url }, { pollIntervalS: 30, leaseTtlS: 30 });
    await claimedInDb;
    await stopAllEngines();
    const row = await getRun(db.pool, id);
    expect(row.state).toBe('pending');
    expect(row.engine_id).toBeNull();
  });
});
