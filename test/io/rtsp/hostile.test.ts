import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RtspConn } from '../../../src/io/rtsp/conn.js';
import { RtspServer, type RtspServerOptions } from '../../../src/io/rtsp/index.js';
import { RawRtspClient } from '../../helpers/rtspClient.js';
import { waitFor } from '../../helpers/rtspProcs.js';

// Clients that misuse TCP itself: pipelining without reading and then resetting, never closing their
// side, writing requests in pieces. Each must cost the server its connection at most, never the
// process and never the slots other viewers need.

let server: RtspServer | undefined;
const clients: RawRtspClient[] = [];
const sockets: net.Socket[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function start(opts: Partial<RtspServerOptions> = {}): Promise<RtspServer> {
  server = new RtspServer({ host: '127.0.0.1', port: 0, ...opts });
  await server.listen();
  server.createMount('live', { codec: 'h264' });
  return server;
}

async function client(): Promise<RawRtspClient> {
  const c = await RawRtspClient.connect(server!.port);
  clients.push(c);
  return c;
}

/** A plain socket; allowHalfOpen keeps Node from ending our side when the server ends its own. */
async function rawSocket(opts: { allowHalfOpen?: boolean } = {}): Promise<net.Socket> {
  const s = net.connect({ port: server!.port, host: '127.0.0.1', allowHalfOpen: opts.allowHalfOpen ?? false });
  sockets.push(s);
  s.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('error', reject);
  });
  return s;
}

/** The server's side of its only connection (white-box: what it waits on is not visible from outside). */
async function onlyConn(s: RtspServer): Promise<RtspConn> {
  await waitFor(() => s.connectionCount === 1, 'the connection to register');
  return [...(s as unknown as { conns: Set<RtspConn> }).conns][0]!;
}

const options = (from: number, n: number): string => {
  let batch = '';
  for (let i = 0; i < n; i++) batch += `OPTIONS * RTSP/1.0\r\nCSeq: ${from + i}\r\n\r\n`;
  return batch;
};

/**
 * Pipelines OPTIONS on a socket that reads nothing until the server, its writes to us refused by a full
 * socket buffer, waits for 'drain' (and so stops answering, then stops reading).
 */
async function pipelineUntilServerWaits(sock: net.Socket, conn: RtspConn, next: { cseq: number }): Promise<void> {
  const waiting = (): boolean => conn.socket.writableNeedDrain && conn.socket.listenerCount('drain') > 0;
  await waitFor(
    () => {
      if (waiting()) return true;
      if (sock.writableLength < 256 * 1024) {
        sock.write(options(next.cseq, 2000));
        next.cseq += 2000;
      }
      return false;
    },
    'the server to wait for the client to read its replies',
    60_000,
  );
  // Still waiting a moment later: it is parked in the wait, not between two writes.
  await sleep(200);
  expect(waiting()).toBe(true);
}

/** Counts the replies read on a raw socket and checks they come in CSeq order. */
function replyCounter(sock: net.Socket): { count: number; statuses: Set<number>; inOrder: boolean } {
  const state = { count: 0, statuses: new Set<number>(), inOrder: true };
  let carry = '';
  sock.setEncoding('latin1');
  sock.on('data', (d: string) => {
    const parts = (carry + d).split('\r\n\r\n');
    carry = parts.pop()!;
    for (const p of parts) {
      const m = /^RTSP\/1\.0 (\d{3})[^]*\r\nCSeq: (\d+)/.exec(p);
      state.count++;
      state.statuses.add(Number(m?.[1] ?? 0));
      if (Number(m?.[2]) !== state.count) state.inOrder = false;
    }
  });
  return state;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  server = undefined;
});

describe('a client that pipelines without reading its replies', () => {
  it('resets its connection while the server waits for it to read: the server lives on, no unhandled rejection', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => {
      rejections.push(reason);
    };
    process.on('unhandledRejection', onRejection);
    try {
      const s = await start();
      const sock = await rawSocket();
      sock.pause(); // never reads: our receive buffer, then the server's send buffer, fill up
      const conn = await onlyConn(s);
      await pipelineUntilServerWaits(sock, conn, { cseq: 1 });
      // Closing with unread data sends RST: the server's pending write fails with ECONNRESET ('error').
      sock.resetAndDestroy();
      await waitFor(() => s.connectionCount === 0, 'the reset connection to be released');
      await sleep(300); // an unhandled rejection is reported after the microtask queue drains
      expect(rejections).toEqual([]);
      const c = await client();
      expect((await c.request('OPTIONS', '*')).status).toBe(200);
      expect(s.connectionCount).toBe(1);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('waits for a slow reader again and again without adding socket listeners at every wait, and answers all in order', async () => {
    const s = await start();
    const sock = await rawSocket();
    sock.pause();
    const replies = replyCounter(sock);
    sock.pause(); // setEncoding/'data' above made it flowing
    const conn = await onlyConn(s);
    const base = { close: conn.socket.listenerCount('close'), error: conn.socket.listenerCount('error') };
    const next = { cseq: 1 };
    const during: { close: number; error: number }[] = [];
    for (let wait = 0; wait < 5; wait++) {
      await pipelineUntilServerWaits(sock, conn, next);
      during.push({ close: conn.socket.listenerCount('close'), error: conn.socket.listenerCount('error') });
      // Read for a moment: the server's buffer drains, it answers on until our buffer is full again.
      const before = replies.count;
      sock.resume();
      await waitFor(() => replies.count > before && conn.socket.listenerCount('drain') === 0, 'the server to write again');
      sock.pause();
    }
    // One listener each for the wait in progress, none left over from the waits before it.
    expect(during).toEqual(Array.from({ length: 5 }, () => ({ close: base.close + 1, error: base.error + 1 })));
    sock.resume();
    await waitFor(() => replies.count === next.cseq - 1, () => `all ${next.cseq - 1} replies (got ${replies.count})`, 60_000);
    expect(replies.inOrder).toBe(true);
    expect(replies.statuses).toEqual(new Set([200]));
  });
});

describe('connections that never close their side', () => {
  it('frees the slots of silent connections that ignore the server closing them, so a new viewer gets in', async () => {
    const s = await start({ maxConnections: 3, sessionTimeoutS: 1 });
    const ended: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      const sock = await rawSocket({ allowHalfOpen: true });
      ended.push(false);
      // Reads the server's FIN, but neither answers it nor closes: the socket stays half-open on our side.
      sock.on('end', () => (ended[i] = true));
      sock.resume();
    }
    await waitFor(() => s.connectionCount === 3, 'three connections registered');
    const refused = await client();
    await waitFor(() => refused.closed, 'a fourth connection refused while the slots are held');
    // Idle past the 1 s timeout, then the grace after the server's FIN: the slots must be free again.
    await waitFor(() => s.connectionCount === 0, () => `silent connections released (still ${s.connectionCount})`, 15_000);
    expect(ended).toEqual([true, true, true]);
    const c = await client();
    expect((await c.request('OPTIONS', '*')).status).toBe(200);
  });
});

describe('request deadline, per request', () => {
  const req = (i: number): string => `OPTIONS * RTSP/1.0\r\nCSeq: ${i}\r\n\r\n`;

  it('does not time out a pipelining client whose every write ends in the middle of a request', async () => {
    await start({ requestTimeoutMs: 1000 });
    const c = await client();
    // Each request is split across two writes 100 ms apart; every write completes one and begins the
    // next, so the parser is never empty for 3 s although no request took more than 100 ms.
    const n = 31;
    c.send(req(1).slice(0, 10));
    for (let i = 1; i < n; i++) {
      await sleep(100);
      c.send(req(i).slice(10) + req(i + 1).slice(0, 10));
    }
    await sleep(100);
    c.send(req(n).slice(10));
    const rs = await c.nextResponses(n);
    expect(rs.map((r) => r.status)).toEqual(Array.from({ length: n }, () => 200));
    expect(rs.map((r) => Number(r.headers.cseq))).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(c.closed).toBe(false);
  });

  it('does not count the time the server itself stops reading a pipelining client', async () => {
    // 40 DESCRIBEs of a mount without a keyframe wait 100 ms each: the server stops reading at 32
    // waiting requests and reads on only ~2.5 s later, long after the 1 s deadline of the request
    // whose first bytes came with the batch and whose rest came 100 ms later.
    await start({ requestTimeoutMs: 1000, describeWaitMs: 100 });
    const c = await client();
    let batch = '';
    for (let i = 1; i <= 40; i++) batch += `DESCRIBE rtsp://127.0.0.1:${server!.port}/live RTSP/1.0\r\nCSeq: ${i}\r\n\r\n`;
    c.send(batch + req(41).slice(0, 10));
    await sleep(100);
    c.send(req(41).slice(10));
    const rs = await c.nextResponses(41);
    expect(rs.map((r) => Number(r.headers.cseq))).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
    expect(rs.slice(0, 40).every((r) => r.status === 404)).toBe(true);
    expect(rs[40]!.status).toBe(200);
    expect(c.closed).toBe(false);
  });
});
