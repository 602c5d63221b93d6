import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { LABELS, MODEL, SIE, runSie } from '../helpers/media.js';
import { freePort, killAll, start, until } from '../helpers/processes.js';

/**
 * Live machines in Stately's inspector: `sie inspect` (Stately's bridge) relays what an engine or a run
 * with SIE_INSPECT sends to every other client, as its page does for the inspector UI; this test is that
 * page. The password of a camera URL never reaches it.
 */

interface Inspected {
  type: string;
  name?: string;
  definition?: string;
  snapshot?: { value?: unknown; context?: unknown };
}

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});
afterEach(async () => {
  await killAll();
});

/** `sie inspect` on a free port and a client of it that keeps every message. */
async function bridge(): Promise<{ url: string; messages: Inspected[]; raw: string[]; close(): void }> {
  const port = await freePort();
  const p = start(SIE, ['inspect', '--port', String(port)]);
  await p.waitFor(/^inspect: open http:\/\/localhost:\d+/m, 30_000);
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const raw: string[] = [];
  const messages: Inspected[] = [];
  ws.on('message', (data: Buffer) => {
    raw.push(data.toString());
    messages.push(JSON.parse(data.toString()) as Inspected);
  });
  return { url: `ws://127.0.0.1:${port}`, messages, raw, close: () => ws.close() };
}

/** A snapshot's state value as JSON ('' for actors without states). */
const valueOf = (m: Inspected): string => JSON.stringify(m.snapshot?.value) ?? '';

const definitionId = (m: Inspected): string | undefined => (m.definition ? (JSON.parse(m.definition) as { id?: string }).id : undefined);

describe('Stately inspector (SIE_INSPECT)', () => {
  it("a run's machine shows its actors and states live, and a password in the camera URL is redacted", async () => {
    const b = bridge();
    const { url, messages, raw, close } = await b;
    try {
      // A camera that refuses: the run goes starting → connecting → failed, all of it inspected.
      const source = `rtsp://viewer:s3cretPass@127.0.0.1:${await freePort()}/cam`;
      const r = await runSie(['run', source, '--model', MODEL, '--labels', LABELS, '--port', String(await freePort()), '--connect-timeout', '3'], { SIE_INSPECT: url }, 90_000);
      expect(r.code, r.stderr).not.toBe(0);
      await until(() => messages.some((m) => m.type === '@xstate.snapshot' && valueOf(m) === '"failed"'), 10_000, 'the failed state');
      expect(messages.some((m) => m.type === '@xstate.actor' && definitionId(m) === 'run')).toBe(true);
      const states = messages.filter((m) => m.type === '@xstate.snapshot').map(valueOf);
      expect(states).toContain('"starting"');
      expect(states.some((s) => s.includes('connecting')), states.join(' ')).toBe(true);
      // The camera's URL does reach the inspector (in the decoder's error), without its password.
      expect(raw.some((x) => x.includes('viewer:***@127.0.0.1'))).toBe(true);
      expect(raw.join('\n')).not.toContain('s3cretPass');
    } finally {
      close();
    }
  }, 120_000);

  it("an engine's poller machine shows up too", async () => {
    const { url, messages, close } = await bridge();
    try {
      const engine = start(SIE, ['engine', '--rtsp-port', String(await freePort()), '--poll-interval', '0.5'], { SIE_DATABASE_URL: db.url, SIE_INSPECT: url });
      await engine.waitFor(/^engine: \S+/m, 30_000);
      await until(() => messages.some((m) => m.type === '@xstate.actor' && definitionId(m) === 'poller'), 10_000, 'the poller actor');
      await until(() => messages.some((m) => m.type === '@xstate.snapshot' && valueOf(m).includes('active')), 10_000, 'the poller active');
    } finally {
      close();
    }
  }, 90_000);

  it('SIE_INSPECT that is not a ws:// URL is a usage error naming it (exit 2)', async () => {
    const r = await runSie(['run', 'rtsp://127.0.0.1:1/x', '--model', MODEL, '--labels', LABELS], { SIE_INSPECT: 'http://localhost:8080' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SIE_INSPECT');
  }, 60_000);
});
