import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MountExistsError, RtspServer, type RtspMount, type RtspServerOptions } from '../../../src/io/rtsp/index.js';
import { RawRtspClient, rtpInfo, sessionId, type RawFrame } from '../../helpers/rtspClient.js';
import { waitFor } from '../../helpers/rtspProcs.js';

// Synthetic access units: the server never decodes, so valid headers are enough here (real encoders
// and decoders are exercised in clients.test.ts).
const SPS = Buffer.from('6742c01ed9', 'hex');
const PPS = Buffer.from('68ce3c80', 'hex');
const nal = (header: number, size: number): Buffer => {
  const n = Buffer.alloc(size, 0x5a);
  n[0] = header;
  return n;
};
const keyAu = (size = 3000): Buffer[] => [SPS, PPS, nal(0x65, size)];
const pAu = (size = 800): Buffer[] => [nal(0x41, size)];

/** Writes AUs with pts advancing by one 25 fps frame each. */
class Feeder {
  private n = 0;
  constructor(private readonly mount: RtspMount) {}
  write(au: Buffer[]): void {
    this.mount.writeAccessUnit(au, this.n++ / 25);
  }
}

const nalTypeOf = (f: RawFrame): number => rtpInfo(f.payload).payload[0]! & 0x1f;
const rtcpType = (f: RawFrame): number => f.payload[1]!;

let server: RtspServer;
let clients: RawRtspClient[] = [];
const url = (path: string): string => `rtsp://127.0.0.1:${server.port}/${path}`;

async function start(opts: Partial<RtspServerOptions> = {}): Promise<void> {
  await server?.close();
  server = new RtspServer({ host: '127.0.0.1', port: 0, describeWaitMs: 300, ...opts });
  await server.listen();
}

async function client(): Promise<RawRtspClient> {
  const c = await RawRtspClient.connect(server.port);
  clients.push(c);
  return c;
}

/** DESCRIBE, SETUP over TCP, PLAY; returns the PLAY reply and the session id. */
async function playTcp(c: RawRtspClient, path = 'live', interleaved = '0-1') {
  const d = await c.request('DESCRIBE', url(path), { Accept: 'application/sdp' });
  expect(d.status).toBe(200);
  const s = await c.request('SETUP', `${url(path)}/trackID=0`, { Transport: `RTP/AVP/TCP;unicast;interleaved=${interleaved}` });
  expect(s.status).toBe(200);
  const session = sessionId(s);
  const play = await c.request('PLAY', `${url(path)}/`, { Session: session });
  expect(play.status).toBe(200);
  return { setup: s, play, session };
}

beforeEach(async () => {
  await start();
});

afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await server.close();
});

describe('RTSP requests', () => {
  it('answers OPTIONS with its methods and echoes CSeq verbatim, 0 included', async () => {
    const c = await client();
    const r = await c.request('OPTIONS', '*', { CSeq: '0' });
    expect(r.status).toBe(200);
    expect(r.headers.cseq).toBe('0');
    for (const m of ['DESCRIBE', 'SETUP', 'PLAY', 'TEARDOWN', 'GET_PARAMETER', 'SET_PARAMETER']) expect(r.headers.public).toContain(m);
    // Answered but not advertised: GStreamer then stops with TEARDOWN alone (handler.ts, PUBLIC_METHODS).
    expect(r.headers.public).not.toContain('PAUSE');
  });

  it('answers 400 without CSeq, 404 for unknown paths and 501 for unknown methods, CSeq echoed', async () => {
    const c = await client();
    const noCseq = await c.request('OPTIONS', '*', { CSeq: null });
    expect(noCseq.status).toBe(400);
    expect(noCseq.headers.cseq).toBeUndefined();
    const nf = await c.request('DESCRIBE', url('nope'), { CSeq: '41' });
    expect([nf.status, nf.headers.cseq]).toEqual([404, '41']);
    const ni = await c.request('RECORD', url('nope'), { CSeq: '42' });
    expect([ni.status, ni.headers.cseq]).toEqual([501, '42']);
  });

  it('makes DESCRIBE wait for the first parameter sets, then 404 if none came', async () => {
    const mount = server.createMount('live', { codec: 'h264' });
    const c = await client();
    expect((await c.request('DESCRIBE', url('live'))).status).toBe(404);
    const pending = c.request('DESCRIBE', url('live'));
    setTimeout(() => new Feeder(mount).write(keyAu()), 50);
    const r = await pending;
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/sdp');
    expect(r.headers['content-base']).toBe(`${url('live')}/`);
    expect(r.body).toContain(`sprop-parameter-sets=${SPS.toString('base64')},${PPS.toString('base64')}`);
    expect(r.body).toContain('profile-level-id=42c01e');
  });

  it('describes H.265 mounts with sprop-vps/sps/pps', async () => {
    const mount = server.createMount('cams/h265', { codec: 'h265' });
    const vps = Buffer.from('40010c01ff', 'hex');
    const sps = Buffer.from('42010101', 'hex');
    const pps = Buffer.from('4401c172', 'hex');
    mount.writeAccessUnit([Buffer.from('460150', 'hex'), vps, sps, pps, Buffer.from('2601af0000', 'hex')], 0);
    const r = await (await client()).request('DESCRIBE', url('cams/h265'));
    expect(r.status).toBe(200);
    expect(r.body).toContain(`sprop-vps=${vps.toString('base64')}; sprop-sps=${sps.toString('base64')}; sprop-pps=${pps.toString('base64')}`);
  });

  it('negotiates transports: first supported alternative, assigned channels, UDP server ports, 461', async () => {
    const mount = server.createMount('live', { codec: 'h264' });
    new Feeder(mount).write(keyAu());
    const ssrc = /ssrc=([0-9A-F]{8})/;
    const c = await client();
    const bad = await c.request('SETUP', `${url('live')}/trackID=0`, { Transport: 'RTP/AVP;multicast' });
    expect(bad.status).toBe(461);
    const tcp = await c.request('SETUP', `${url('live')}/trackID=0`, { Transport: 'RTP/AVP;multicast,RTP/AVP/TCP;unicast' });
    expect(tcp.status).toBe(200);
    expect(tcp.headers.transport).toMatch(/^RTP\/AVP\/TCP;unicast;interleaved=0-1;ssrc=[0-9A-F]{8}$/);
    expect(tcp.headers.session).toMatch(/^[0-9a-f]{16};timeout=55$/);
    // A second session on the same connection gets the next free pair.
    const tcp2 = await c.request('SETUP', `${url('live')}/`, { Transport: 'RTP/AVP/TCP;unicast' });
    expect(tcp2.headers.transport).toContain('interleaved=2-3');
    const udp = await (await client()).request('SETUP', `${url('live')}?token=1/trackID=0`, { Transport: 'RTP/AVP;unicast;client_port=40000-40001' });
    const { rtp, rtcp } = server.udpPorts;
    expect(rtp % 2).toBe(0);
    expect(rtcp).toBe(rtp + 1);
    expect(udp.headers.transport).toBe(`RTP/AVP;unicast;client_port=40000-40001;server_port=${rtp}-${rtcp};ssrc=${ssrc.exec(tcp.headers.transport!)![1]}`);
    expect(server.sessionCount).toBe(3);
  });

  it('checks session state: 454 without a valid session, 455 for SETUP while playing; PAUSE and PLAY again', async () => {
    const mount = server.createMount('live', { codec: 'h264' });
    new Feeder(mount).write(keyAu());
    const c = await client();
    expect((await c.request('PLAY', url('live'))).status).toBe(454);
    expect((await c.request('PLAY', url('live'), { Session: 'deadbeef' })).status).toBe(454);
    const { session } = await playTcp(c);
    const again = await c.request('SETUP', `${url('live')}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1', Session: session });
    expect(again.status).toBe(455);
    expect((await c.request('PAUSE', url('live'), { Session: `${session};timeout=55` })).status).toBe(200);
    expect(mount.readerCount).toBe(0);
    const replay = await c.request('PLAY', url('live'), { Session: session });
    expect(replay.status).toBe(200);
    expect(replay.headers['rtp-info']).toMatch(/;seq=\d+;rtptime=\d+$/);
    expect(mount.readerCount).toBe(1);
    // Another connection cannot drive a TCP session.
    expect((await (await client()).request('PAUSE', url('live'), { Session: session })).status).toBe(454);
  });
});

describe('RTP delivery', () => {
  it('sends nothing before the PLAY reply; RTP-Info names the first packet; keyframe first; SR on the RTCP channel', async () => {
    const mount = server.createMount('live', { codec: 'h264' });
    const feed = new Feeder(mount);
    feed.write(keyAu(5000));
    for (let i = 0; i < 3; i++) feed.write(pAu());
    const c = await client();
    const { play, setup } = await playTcp(c, 'live', '4-5');
    for (let i = 0; i < 2; i++) feed.write(pAu(2000));
    const rtp = (): RawFrame[] => c.frames.filter((f) => f.channel === 4);
    // key AU: SPS, PPS, 4 FU-A; 3 small P; 2 P of 2 FU-A each.
    await waitFor(() => rtp().length >= 6 + 3 + 4, 'all packets');
    await waitFor(() => c.frames.some((f) => f.channel === 5), 'sender report');
    const responsesBeforeFirstFrame = c.order.slice(0, c.order.findIndex((o) => o !== 'R'));
    expect(responsesBeforeFirstFrame).toEqual(['R', 'R', 'R']); // DESCRIBE, SETUP, PLAY
    const pk = rtp().map((f) => rtpInfo(f.payload));
    const m = /url=([^;]+);seq=(\d+);rtptime=(\d+)/.exec(play.headers['rtp-info']!)!;
    expect(m[1]).toBe(`${url('live')}/trackID=0`);
    expect([pk[0]!.seq, pk[0]!.ts]).toEqual([Number(m[2]), Number(m[3])]);
    expect(pk.map((p) => p.seq)).toEqual(pk.map((_, i) => (pk[0]!.seq + i) & 0xffff));
    expect(rtp().slice(0, 3).map(nalTypeOf)).toEqual([7, 8, 28]);
    expect(pk.filter((p) => p.marker)).toHaveLength(6);
    expect(new Set(pk.slice(0, 6).map((p) => p.ts)).size).toBe(1);
    expect(pk.every((p) => p.payload.length <= 1400)).toBe(true);
    const ssrc = parseInt(/ssrc=([0-9A-F]{8})/.exec(setup.headers.transport!)![1]!, 16);
    expect(pk.every((p) => p.ssrc === ssrc)).toBe(true);
    const sr = c.frames.find((f) => f.channel === 5)!;
    expect([rtcpType(sr), sr.payload.readUInt32BE(4)]).toEqual([200, ssrc]);
  });

  it('starts a late reader at the cached keyframe, prepending parameter sets the IDR lacked', async () => {
    const mount = server.createMount('live', { codec: 'h264' });
    const feed = new Feeder(mount);
    feed.write(keyAu());
    feed.write(pAu());
    feed.write([nal(0x65, 500)]); // IDR without SPS/PPS: the server adds the cached ones
    feed.write(pAu());
    feed.write(pAu());
    const c = await client();
    await playTcp(c);
    await waitFor(() => c.frames.filter((f) => f.channel === 0).length >= 5, 'GOP burst');
    const rtp = c.frames.filter((f) => f.channel === 0);
    expect(rtp.map(nalTypeOf)).toEqual([7, 8, 5, 1, 1]);
    expect(rtp.map((f) => rtpInfo(f.payload).marker)).toEqual([false, false, true, true, true]);
  });

  it('serves requests interleaved with client RTCP on one socket', async () => {
    const mount = server.createMount('live', { codec: 'h264' });
    new Feeder(mount).write(keyAu());
    const c = await client();
    const { session } = await playTcp(c);
    const rr = Buffer.from('81c90007aabbccdd0011223344556677', 'hex');
    const frame = Buffer.concat([Buffer.from([0x24, 1, 0, rr.length]), rr]);
    c.send(Buffer.concat([frame, Buffer.from(`GET_PARAMETER ${url('live')}/ RTSP/1.0\r\nCSeq: 77\r\nSession: ${session}\r\n\r\n`), frame]));
    const r = await c.nextResponse();
    expect([r.status, r.headers.cseq, sessionId(r)]).toEqual([200, '77', session]);
    expect(mount.readerCount).toBe(1);
  });

  it('frees the session on TEARDOWN and when a TCP client disconnects', async () => {
    const mount = server.createMount('live', { codec: 'h264' });
    new Feeder(mount).write(keyAu());
    const c = await client();
    const { session } = await playTcp(c);
    expect([mount.readerCount, server.sessionCount]).toEqual([1, 1]);
    const td = await c.request('TEARDOWN', `${url('live')}/`, { Session: session });
    expect(td.status).toBe(200);
    expect(td.headers.session).toBeUndefined();
    expect([mount.readerCount, server.sessionCount]).toEqual([0, 0]);
    const c2 = await client();
    await playTcp(c2);
    expect(mount.readerCount).toBe(1);
    c2.close();
    await waitFor(() => mount.readerCount === 0 && server.sessionCount === 0, 'session freed on disconnect');
  });

  it('on removeMount sends RTCP BYE, disconnects readers, then answers 404; the path can be reused', async () => {
    const mount = server.createMount('live', { codec: 'h264' });
    new Feeder(mount).write(keyAu());
    const c = await client();
    await playTcp(c);
    expect(() => server.createMount('live', { codec: 'h264' })).toThrow(MountExistsError);
    server.removeMount('live');
    await waitFor(() => c.closed, 'reader disconnected');
    expect(c.frames.filter((f) => f.channel === 1).map(rtcpType)).toContain(201); // RR+BYE compound
    expect(c.frames.at(-1)!.payload[9]).toBe(203);
    expect(server.getMount('live')).toBeUndefined();
    expect((await (await client()).request('DESCRIBE', url('live'))).status).toBe(404);
    mount.writeAccessUnit(pAu(), 1); // a closed mount ignores writes
    expect(server.createMount('live', { codec: 'h264' }).path).toBe('live');
  });

  it('drops a reader that stops reading without slowing the others or the writer', async () => {
    await start({ writeQueueSize: 64 });
    const mount = server.createMount('live', { codec: 'h264' });
    const feed = new Feeder(mount);
    feed.write(keyAu());
    const stalled = await client();
    await playTcp(stalled);
    stalled.socket.pause(); // reads nothing more: kernel buffers fill, then our queue
    const good = await client();
    await playTcp(good);
    let goodPackets = 0;
    let lastSeq = -1;
    let gaps = 0;
    good.onFrame = (f) => {
      if (f.channel !== 0) return;
      const seq = rtpInfo(f.payload).seq;
      if (lastSeq >= 0 && seq !== ((lastSeq + 1) & 0xffff)) gaps++;
      lastSeq = seq;
      goodPackets++;
    };
    let written = 0;
    // 20 kB P frames (15 packets each) until the stalled reader overflows; ~10 MB of socket buffers first.
    for (let i = 0; i < 4000 && mount.stats.readersDropped === 0; i++) {
      feed.write(pAu(20_000));
      written += 15;
      await new Promise((r) => setImmediate(r));
    }
    expect(mount.stats.readersDropped).toBe(1);
    for (let i = 0; i < 5; i++) {
      feed.write(pAu(20_000));
      written += 15;
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => goodPackets >= written, () => `good reader got ${goodPackets}/${written}`, 20_000);
    expect(gaps).toBe(0);
    expect([mount.readerCount, server.sessionCount]).toEqual([1, 1]);
    expect(mount.stats.accessUnits).toBe(1 + written / 15);
    stalled.socket.resume(); // it finds its connection closed by the server
    await waitFor(() => stalled.closed, 'stalled reader disconnected');
  });

  it('drops a reader whose backlog does not drain within the write timeout, even when the queue never fills', async () => {
    await start({ writeQueueSize: 1_000_000, writeTimeoutMs: 300 });
    const mount = server.createMount('live', { codec: 'h264' });
    const feed = new Feeder(mount);
    feed.write(keyAu());
    const stalled = await client();
    await playTcp(stalled);
    stalled.socket.pause();
    // Fill the kernel buffers until bytes stay with us; the queue is far too large to overflow, so only
    // the write timeout can drop this reader.
    for (let i = 0; i < 4000 && mount.stats.readersDropped === 0; i++) {
      feed.write(pAu(20_000));
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => mount.stats.readersDropped === 1 && server.sessionCount === 0, 'stalled reader dropped');
    expect(mount.readerCount).toBe(0);
  });

  it('never throws from writeAccessUnit on bad input', () => {
    const mount = server.createMount('live', { codec: 'h264' });
    expect(() => {
      mount.writeAccessUnit([], 0);
      mount.writeAccessUnit([Buffer.from([0x09, 0xf0])], 0); // AUD only
      mount.writeAccessUnit(pAu(), Number.NaN);
      mount.writeAccessUnit(pAu(), -1);
    }).not.toThrow();
    expect(mount.stats.accessUnits).toBe(0);
  });
});

describe('UDP transport', () => {
  it('sends RTP and SR from the advertised ports; RTCP keeps the session alive; silence expires it', async () => {
    await start({ sessionTimeoutS: 1 });
    const mount = server.createMount('live', { codec: 'h264' });
    const feed = new Feeder(mount);
    feed.write(keyAu());
    const rtpSock = dgram.createSocket('udp4');
    const rtcpSock = dgram.createSocket('udp4');
    try {
      for (const s of [rtpSock, rtcpSock]) await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
      const rtp: { port: number; p: Buffer }[] = [];
      const rtcp: { port: number; p: Buffer }[] = [];
      rtpSock.on('message', (p, ri) => rtp.push({ port: ri.port, p }));
      rtcpSock.on('message', (p, ri) => rtcp.push({ port: ri.port, p }));
      const c = await client();
      const s = await c.request('SETUP', `${url('live')}/trackID=0`, { Transport: `RTP/AVP;unicast;client_port=${rtpSock.address().port}-${rtcpSock.address().port}` });
      expect(s.status).toBe(200);
      expect(s.headers.session).toMatch(/;timeout=1$/);
      const play = await c.request('PLAY', url('live'), { Session: sessionId(s) });
      expect(play.status).toBe(200);
      c.close(); // a UDP session outlives its RTSP connection
      await waitFor(() => rtp.length >= 3 && rtcp.length >= 1, 'RTP and SR');
      expect(rtp.every((x) => x.port === server.udpPorts.rtp)).toBe(true);
      expect([rtcp[0]!.port, rtcp[0]!.p[1]]).toEqual([server.udpPorts.rtcp, 200]);
      // Receiver reports to the server's RTCP port are the only sign of life now. Meanwhile the wall clock
      // steps a minute ahead at every reading (NTP, a resumed VM): expiry must not read it.
      const rr = Buffer.from('81c90007aabbccdd0011223344556677', 'hex');
      const wall = Date.now.bind(Date);
      let steps = 0;
      vi.spyOn(Date, 'now').mockImplementation(() => wall() + 60_000 * ++steps);
      const until = performance.now() + 2500;
      while (performance.now() < until) {
        rtcpSock.send(rr, server.udpPorts.rtcp, '127.0.0.1');
        feed.write(pAu());
        await new Promise((r) => setTimeout(r, 100));
      }
      vi.restoreAllMocks();
      expect(server.sessionCount).toBe(1);
      await waitFor(() => server.sessionCount === 0, 'session expiry', 10_000);
      expect(mount.readerCount).toBe(0);
      await waitFor(() => rtcp.some((x) => x.p[9] === 203), 'RTCP BYE');
    } finally {
      vi.restoreAllMocks();
      rtpSock.close();
      rtcpSock.close();
    }
  });
});

describe('authentication', () => {
  const creds = { user: 'admin', password: 'p@ss:word' };
  const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

  it('challenges without credentials and keeps the socket; accepts Basic and Digest; closes on wrong ones', async () => {
    const mount = server.createMount('secure', { codec: 'h264', auth: creds });
    new Feeder(mount).write(keyAu());
    const c = await client();
    const ch = await c.request('DESCRIBE', url('secure'), { CSeq: '5' });
    expect([ch.status, ch.headers.cseq]).toEqual([401, '5']);
    expect(ch.headers['www-authenticate']).toMatch(/^Digest realm="sie", nonce="[0-9a-f]+", algorithm=MD5\nBasic realm="sie"$/);
    expect(ch.raw).not.toContain(creds.password);
    // Same socket, now with Basic credentials.
    const ok = await c.request('DESCRIBE', url('secure'), { Authorization: basic(creds.user, creds.password) });
    expect(ok.status).toBe(200);
    const noAuthSetup = await c.request('SETUP', `${url('secure')}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast' });
    expect(noAuthSetup.status).toBe(401);

    const nonce = /nonce="([0-9a-f]+)"/.exec(ch.headers['www-authenticate']!)![1]!;
    const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
    const uri = url('secure');
    const response = md5(`${md5(`admin:sie:${creds.password}`)}:${nonce}:${md5(`DESCRIBE:${uri}`)}`);
    const dg = await (await client()).request('DESCRIBE', uri, { Authorization: `Digest username="admin", realm="sie", nonce="${nonce}", uri="${uri}", response="${response}"` });
    expect(dg.status).toBe(200);

    const bad = await client();
    const wrong = await bad.request('DESCRIBE', url('secure'), { Authorization: basic(creds.user, 'nope') });
    expect(wrong.status).toBe(401);
    await waitFor(() => bad.closed, 'connection closed after wrong credentials');
  });
});
