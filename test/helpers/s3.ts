import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { DUMMY_ACCOUNT } from 's3rver/lib/models/account.js';
import type { ModelS3Config } from '../../src/io/s3/config.js';

/**
 * How the proxy in front of s3rver behaves: `pass` forwards; `refuse` accepts and drops every connection
 * (a store that is down behind its load balancer); `cut` forwards the first `bytes` of the answer of each of
 * the next `times` connections, then drops both sides (a network that breaks mid-download).
 */
export type ProxyMode = { kind: 'pass' } | { kind: 'refuse' } | { kind: 'cut'; bytes: number; times: number };

/**
 * An in-process S3 (s3rver) on a free loopback port with its own temp directory and one bucket, and a TCP
 * proxy in front of it that the code under test talks to, so a test can make the store refuse or break a
 * transfer mid-way and come back. Credentials: a key pair of the test's own with a random secret, given to
 * the code under test through the AWS SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
 */
export interface S3TestStore {
  readonly bucket: string;
  /** The proxy's http://127.0.0.1:PORT: what the code under test is configured with. */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Straight to s3rver (not through the proxy), for the test's own reads and writes. */
  readonly direct: S3Client;
  /** Connections the proxy accepted (every request the code under test made opens or reuses one). */
  readonly connections: () => number;
  mode(m: ProxyMode): void;
  config(o?: Partial<ModelS3Config>): ModelS3Config;
  getObject(key: string): Promise<Buffer | undefined>;
  putObject(key: string, body: Buffer): Promise<void>;
  deleteObject(key: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * S3 answers `Expect: 100-continue` (which the SDK sends with bodies of 2 MiB and more) from the headers:
 * a request it refuses, say for an unknown key, gets its 403 before the client sends a byte of the body.
 * s3rver leaves that to Node, which says "100 Continue" at once; the body then races the 403 and the close
 * that follows, and under load the client sees a reset instead of the refusal. So: "100 Continue" only
 * when s3rver starts reading the body, and never once it has answered.
 */
function answerContinueOnRead(server: S3rver): void {
  // s3rver is a Koa application; its typings leave out what it inherits.
  const app = server as unknown as { httpServer: HttpServer; callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void> };
  const http = app.httpServer;
  const handle = app.callback();
  http.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const read = req._read.bind(req);
    req._read = (size: number) => {
      req._read = read;
      if (!res.headersSent) res.writeContinue();
      read(size);
    };
    void handle(req, res);
  });
}

export async function startS3(bucket = 'sie-models'): Promise<S3TestStore> {
  const dir = await mkdtemp(join(tmpdir(), 'sie-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  answerContinueOnRead(server);
  const accessKeyId = `sie-test-${randomBytes(4).toString('hex')}`;
  const secretAccessKey = `sie-secret-${randomBytes(16).toString('hex')}`;
  DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
  const direct = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

  let mode: ProxyMode = { kind: 'pass' };
  let accepted = 0;
  const open = new Set<Socket>();
  const proxy: Server = createServer((client) => {
    accepted++;
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => undefined);
    if (mode.kind === 'refuse') {
      client.destroy();
      return;
    }
    let cutAfter = Infinity;
    if (mode.kind === 'cut' && mode.times > 0) {
      cutAfter = mode.bytes;
      mode = mode.times > 1 ? { ...mode, times: mode.times - 1 } : { kind: 'pass' };
    }
    const upstream = connect(port, '127.0.0.1');
    open.add(upstream);
    upstream.on('close', () => open.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    let sent = 0;
    upstream.on('data', (chunk: Buffer) => {
      if (sent + chunk.length > cutAfter) {
        client.write(chunk.subarray(0, Math.max(0, cutAfter - sent)));
        client.destroy();
        upstream.destroy();
        return;
      }
      sent += chunk.length;
      client.write(chunk);
    });
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  return {
    bucket,
    endpoint,
    accessKeyId,
    secretAccessKey,
    direct,
    connections: () => accepted,
    mode: (m) => {
      mode = m;
      // Keep-alive connections made before a change would go on passing: the next request opens a new one.
      for (const s of open) s.destroy();
    },
    config: (o = {}) => ({ bucket, prefix: 'models/v1', endpoint, region: 'us-east-1', forcePathStyle: true, minBytes: 0, ...o }),
    async getObject(key) {
      try {
        const r = await direct.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Buffer.from(await r.Body!.transformToByteArray());
      } catch (err) {
        if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
        throw err;
      }
    },
    async putObject(key, body) {
      await direct.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    async deleteObject(key) {
      await direct.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      direct.destroy();
      DUMMY_ACCOUNT.revokeAccessKey(accessKeyId);
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
