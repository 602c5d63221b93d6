import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RtspServer, type RtspServerOptions } from '../../../src/io/rtsp/index.js';
import { RawRtspClient } from '../../helpers/rtspClient.js';
import { waitFor } from '../../helpers/rtspProcs.js';

// What one hostile client can make the server hold: sessions per connection and in all, connections,
// and how long a request may take to arrive. Sessions and connections are counted on the server
// itself (RSS would be too noisy to assert on).

let server: RtspServer | undefined;
const clients: RawRtspClient[] = [];
const url = (path: string): string => `rtsp://127.0.0.1:${server!.port}/${path}`;

async function start(opts: Partial<RtspServerOptions> = {}): Promise<RtspServer> {
  server = new RtspServer({ host: '127.0.0.1', port: 0, ...opts });
  await server.listen();
  server.createMount('live', { codec: 'h264' });
  return server;
}

async function client(host = '127.0.0.1'): Promise<RawRtspClient> {
  const c = await RawRtspClient.connect(server!.port, host);
  clients.push(c);
  return c;
}

const setupRequest = (cseq: number, port: number): string =>
  `SETUP ${url('live')}/trackID=0 RTSP/1.0\r\nCSeq: ${cseq}\r\nTransport: RTP/AVP;unicast;client_port=${port}-${port + 1}\r\n\r\n`;

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = undefined;
});

describe('sessions', () => {
  it('answers 2,000 pipelined UDP SETUPs on one connection, but sets up only 4 sessions (453 for the rest)', async () => {
    const s = await start();
    const c = await client();
    const n = 2000;
    let batch = '';
    for (let i = 0; i < n; i++) batch += setupRequest(i + 1, 20_000 + 2 * (i % 10_000));
    c.send(batch);
    const rs = await c.nextResponses(n);
    expect(rs.map((r) => Number(r.headers.cseq))).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(rs.slice(0, 4).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(new Set(rs.slice(4).map((r) => r.status))).toEqual(new Set([453]));
    expect(rs[4]!.raw).toMatch(/^RTSP\/1\.0 453 Not Enough Bandwidth\r\n/);
    expect(s.sessionCount).toBe(4);
    // The connection stays usable, and SETUP on an existing session is not a new one.
    expect((await c.request('OPTIONS', '*')).status).toBe(200);
    const again = await c.request('SETUP', `${url('live')}/trackID=0`, { Session: rs[0]!.headers.session!.split(';')[0]!, Transport: 'RTP/AVP;unicast;client_port=30000-30001' });
    expect(again.status).toBe(200);
    expect(s.sessionCount).toBe(4);
  });

  it('caps sessions in all: UDP sessions outlive their connection, so closing and reconnecting does not add more (503)', async () => {
    const s = await start({ maxSessions: 6 });
    const a = await client();
    const ra = [];
    for (let i = 0; i < 4; i++) ra.push((await a.request('SETUP', `${url('live')}/trackID=0`, { Transport: `RTP/AVP;unicast;client_port=${20_000 + 2 * i}-${20_001 + 2 * i}` })).status);
    expect(ra).toEqual([200, 200, 200, 200]);
    a.close();
    await waitFor(() => s.connectionCount === 0, 'first connection gone');
    expect(s.sessionCount).toBe(4);
    const b = await client();
    const rb = [];
    for (let i = 0; i < 4; i++) rb.push((await b.request('SETUP', `${url('live')}/trackID=0`, { Transport: `RTP/AVP;unicast;client_port=${21_000 + 2 * i}-${21_001 + 2 * i}` })).status);
    expect(rb).toEqual([200, 200, 503, 503]);
    expect(s.sessionCount).toBe(6);
  });

  it('answers 500 pipelined requests in order although it stops reading while 32 wait', async () => {
    await start();
    const c = await client();
    let batch = '';
    for (let i = 1; i <= 500; i++) batch += `OPTIONS * RTSP/1.0\r\nCSeq: ${i}\r\n\r\n`;
    c.send(batch);
    const rs = await c.nextResponses(500);
    expect(rs.map((r) => Number(r.headers.cseq))).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(new Set(rs.map((r) => r.status))).toEqual(new Set([200]));
  });
});

describe('request deadline', () => {
  it('closes a connection that trickles a request one byte every 200 ms once the deadline passes (408)', async () => {
    const s = await start({ requestTimeoutMs: 1000 });
    const c = await client();
    const request = 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: slowloris\r\n\r\n'; // ~11 s at this pace
    let sent = 0;
    const timer = setInterval(() => {
      if (c.closed || sent >= request.length) return;
      c.send(request[sent++]!);
    }, 200);
    try {
      await waitFor(() => c.closed, 'server to close the trickling connection', 8000);
    } finally {
      clearInterval(timer);
    }
    expect(sent).toBeLessThan(request.length);
    expect(c.order).toEqual(['R']);
    expect((await c.nextResponse()).status).toBe(408);
    await waitFor(() => s.connectionCount === 0, 'connection released');
  });

  it('does not count the time a connection sits idle between complete requests', async () => {
    await start({ requestTimeoutMs: 500 });
    const c = await client();
    expect((await c.request('OPTIONS', '*')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    expect(c.closed).toBe(false);
    expect((await c.request('OPTIONS', '*')).status).toBe(200);
  });

  it('refuses a header over 16 KB even when it arrives in one piece', async () => {
    await start();
    const c = await client();
    c.send(`OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect((await c.nextResponse()).status).toBe(400);
    await waitFor(() => c.closed, 'connection closed');
  });
});

describe('connections', () => {
  it('closes connections beyond maxConnections at once, and takes new ones when others leave', async () => {
    const s = await start({ maxConnections: 3 });
    const held = [await client(), await client(), await client()];
    await waitFor(() => s.connectionCount === 3, 'three connections registered');
    const extra = await client();
    await waitFor(() => extra.closed, 'fourth connection closed');
    expect(s.connectionCount).toBe(3);
    for (const c of held) expect((await c.request('OPTIONS', '*')).status).toBe(200);
    held[0]!.close();
    await waitFor(() => s.connectionCount === 2, 'one connection gone');
    const next = await client();
    expect((await next.request('OPTIONS', '*')).status).toBe(200);
  });

  it('answers a request that came with the client\'s FIN (half-close), then closes', async () => {
    const s = await start();
    const c = await client();
    c.socket.end('OPTIONS * RTSP/1.0\r\nCSeq: 7\r\n\r\n');
    const r = await c.nextResponse();
    expect(r.status).toBe(200);
    expect(r.headers.cseq).toBe('7');
    await waitFor(() => c.closed && s.connectionCount === 0, 'connection closed');
  });

  it('listens only on the configured host: bound to 127.0.0.1, 127.0.0.2 is refused', async () => {
    // On Linux the whole of 127/8 is loopback, so 127.0.0.2 is another local address of this machine.
    await start();
    const c = await client('127.0.0.1');
    expect((await c.request('OPTIONS', '*')).status).toBe(200);
    const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const s = net.connect(server!.port, '127.0.0.2');
      s.once('connect', () => {
        s.destroy();
        resolve(undefined);
      });
      s.once('error', (e) => resolve(e));
    });
    expect(err?.code).toBe('ECONNREFUSED');
  });
});
