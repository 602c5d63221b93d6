import { execFile } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './children.js';

const run = promisify(execFile);

/** The server binaries of the installed PostgreSQL (Debian puts them outside PATH); SIE_PG_BIN overrides. */
export const PG_BIN = process.env.SIE_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL cluster of our own (initdb in a temp dir, a free port, trust on 127.0.0.1), for tests that
 * must stop and restart the database, and for the scale test (hundreds of connections, its CPU read from
 * /proc): the machine's shared server is used by other tests and is never touched. The server runs as the `postgres` OS user (it refuses root); we are root in the test machine,
 * so pg_ctl goes through runuser.
 */
export interface PrivatePostgres {
  readonly port: number;
  /** postgres://postgres@127.0.0.1:<port>/<name> */
  url(name?: string): string;
  start(): Promise<void>;
  /** `immediate` is a crash (no checkpoint, clients cut off); `fast` a clean shutdown. */
  stop(mode?: 'immediate' | 'fast'): Promise<void>;
  /** The postmaster's pid now (it changes at each start); its children are the server's processes. */
  postmasterPid(): number | undefined;
  /** Whether the server answers a query now. */
  ready(): Promise<boolean>;
  /** Stops the server and removes its data directory. */
  destroy(): Promise<void>;
}

async function asPostgres(cmd: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const { stdout } = await run('runuser', ['-u', 'postgres', '--', cmd, ...args], { timeout: timeoutMs });
  return stdout;
}

export interface PrivatePostgresOptions {
  /** Default 50. */
  maxConnections?: number;
  /** Default 16MB. */
  sharedBuffers?: string;
  /** More postgresql.conf lines, e.g. `shared_preload_libraries = 'pg_stat_statements'`. */
  settings?: string[];
}

export async function createPrivatePostgres(o: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const root = mkdtempSync(join(tmpdir(), 'sie-pg-'));
  const data = join(root, 'data');
  const logFile = join(root, 'server.log');
  const { uid, gid } = await postgresIds();
  chownSync(root, uid, gid);
  await asPostgres(`${PG_BIN}/initdb`, ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], 120_000);
  const port = await freePort();
  // Only TCP on loopback (no socket dir to share), trust as initdb set up; small, quick to start and stop.
  writeFileSync(
    join(data, 'postgresql.auto.conf'),
    [
      `port = ${port}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = ''`,
      'fsync = off',
      `max_connections = ${o.maxConnections ?? 50}`,
      `shared_buffers = ${o.sharedBuffers ?? '16MB'}`,
      ...(o.settings ?? []),
      '',
    ].join('\n'),
  );
  chownSync(join(data, 'postgresql.auto.conf'), uid, gid);

  const url = (name = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${name}`;
  const pgCtl = (...args: string[]) => asPostgres(`${PG_BIN}/pg_ctl`, ['-D', data, ...args]);
  const self: PrivatePostgres = {
    port,
    url,
    async start() {
      await pgCtl('-l', logFile, '-w', '-t', '60', 'start');
    },
    async stop(mode = 'fast') {
      await pgCtl('-m', mode, '-w', '-t', '60', 'stop');
    },
    postmasterPid() {
      try {
        const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
        return Number.isInteger(pid) && pid > 0 ? pid : undefined;
      } catch {
        return undefined;
      }
    },
    async ready() {
      const c = new pg.Client({ connectionString: url(), connectionTimeoutMillis: 1000 });
      try {
        await c.connect();
        await c.query('SELECT 1');
        return true;
      } catch {
        return false;
      } finally {
        await c.end().catch(() => undefined);
      }
    },
    async destroy() {
      await pgCtl('-m', 'immediate', 'stop').catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
  await self.start();
  return self;
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const { stdout } = await run('id', ['postgres']);
  const uid = Number(stdout.match(/uid=(\d+)/)?.[1]);
  const gid = Number(stdout.match(/gid=(\d+)/)?.[1]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`no postgres OS user: ${stdout}`);
  return { uid, gid };
}
