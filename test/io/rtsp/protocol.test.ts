import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Authenticator } from '../../../src/io/rtsp/auth.js';
import { InvalidMountPathError, RtspParseError } from '../../../src/io/rtsp/errors.js';
import { RtspParser, serializeResponse, type RtspMessage } from '../../../src/io/rtsp/message.js';
import { buildSdp, profileLevelId } from '../../../src/io/rtsp/sdp.js';
import { chooseTransport } from '../../../src/io/rtsp/transport.js';
import { parseRequestTarget, validateMountPath } from '../../../src/io/rtsp/url.js';

const frame = (ch: number, payload: Buffer): Buffer => Buffer.concat([Buffer.from([0x24, ch, payload.length >> 8, payload.length & 0xff]), payload]);

function summarize(msgs: RtspMessage[]): unknown[] {
  return msgs.map((m) => (m.kind === 'interleaved' ? { ch: m.channel, payload: m.payload.toString('hex') } : { method: m.request.method, url: m.request.url, cseq: m.request.headers.get('cseq'), body: m.request.body.toString() }));
}

describe('RtspParser', () => {
  // After PLAY over TCP: client RTCP frames interleaved with keep-alives and TEARDOWN on one socket.
  const rr = Buffer.from('81c90007aabbccdd0011223344556677', 'hex');
  const stream = Buffer.concat([
    frame(1, rr),
    Buffer.from('GET_PARAMETER rtsp://h/live/ RTSP/1.0\r\nCSeq: 7\r\nSession: abc\r\n\r\n'),
    frame(1, Buffer.from('0d0a24', 'hex')), // a payload that looks like CRLF + '$'
    Buffer.from('SET_PARAMETER rtsp://h/live RTSP/1.0\r\ncseq: 8\r\ncontent-length: 12\r\n\r\nparam: x\r\n\r\n'),
    Buffer.from('\r\n'),
    frame(0, Buffer.alloc(0)),
    Buffer.from('TEARDOWN rtsp://h/live RTSP/1.0\r\nCSEQ: 9\r\n\r\n'),
  ]);
  const expected = [
    { ch: 1, payload: rr.toString('hex') },
    { method: 'GET_PARAMETER', url: 'rtsp://h/live/', cseq: '7', body: '' },
    { ch: 1, payload: '0d0a24' },
    { method: 'SET_PARAMETER', url: 'rtsp://h/live', cseq: '8', body: 'param: x\r\n\r\n' },
    { ch: 0, payload: '' },
    { method: 'TEARDOWN', url: 'rtsp://h/live', cseq: '9', body: '' },
  ];

  it('demultiplexes interleaved frames and requests', () => {
    expect(summarize(new RtspParser().push(stream))).toEqual(expected);
  });

  it('handles the stream cut at every offset', () => {
    for (let k = 0; k <= stream.length; k++) {
      const p = new RtspParser();
      expect(summarize([...p.push(stream.subarray(0, k)), ...p.push(stream.subarray(k))]), `cut at ${k}`).toEqual(expected);
    }
  });

  it('reads headers case-insensitively and accepts bare LF line ends', () => {
    const [m] = new RtspParser().push(Buffer.from('options * RTSP/1.0\nCSeq: 0\nUser-Agent: x\n\n'));
    expect(m).toMatchObject({ kind: 'request', request: { method: 'OPTIONS', url: '*' } });
    if (m?.kind === 'request') expect(m.request.headers.get('user-agent')).toBe('x');
  });

  it.each([
    ['HTTP/1.1 request', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['bad header', 'OPTIONS * RTSP/1.0\r\nno colon here\r\n\r\n'],
    ['huge body', 'ANNOUNCE rtsp://h/x RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 999999999\r\n\r\n'],
  ])('rejects %s', (_name, text) => {
    expect(() => new RtspParser().push(Buffer.from(text))).toThrow(RtspParseError);
  });

  it('rejects a header that never ends', () => {
    const p = new RtspParser();
    expect(() => p.push(Buffer.from(`OPTIONS * RTSP/1.0\r\nX: ${'a'.repeat(20000)}`))).toThrow(RtspParseError);
  });
});

describe('serializeResponse', () => {
  it('echoes CSeq verbatim first and counts the body', () => {
    const text = serializeResponse({ status: 200, headers: [['Content-Type', 'application/sdp']], body: 'v=0\r\n' }, '0').toString();
    expect(text).toBe('RTSP/1.0 200 OK\r\nCSeq: 0\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n');
    expect(serializeResponse({ status: 455, headers: [] }, undefined).toString()).toBe('RTSP/1.0 455 Method Not Valid in This State\r\n\r\n');
  });
});

describe('chooseTransport', () => {
  it.each([
    ['RTP/AVP/TCP;unicast;interleaved=0-1', { protocol: 'tcp', interleaved: [0, 1] }],
    ['RTP/AVP/TCP;interleaved=3-4;unicast;mode="PLAY"', { protocol: 'tcp', interleaved: [3, 4] }],
    ['RTP/AVP/TCP;unicast', { protocol: 'tcp' }],
    ['RTP/AVP;unicast;client_port=5000-5001', { protocol: 'udp', clientPorts: [5000, 5001] }],
    ['rtp/avp/udp;client_port=6000;unicast', { protocol: 'udp', clientPorts: [6000, 6001] }],
    ['RTP/AVP;multicast;port=5000-5001,RTP/AVP/TCP;unicast;interleaved=2-3', { protocol: 'tcp', interleaved: [2, 3] }],
    ['RTP/AVP;unicast;client_port=5000-5001;mode=record', undefined],
    ['RTP/AVP;multicast', undefined],
    ['RTP/SAVP;unicast;client_port=1-2', undefined],
    ['RTP/AVP;unicast', undefined],
    [undefined, undefined],
  ] as const)('%s', (header, want) => {
    expect(chooseTransport(header)).toEqual(want);
  });
});

describe('request targets', () => {
  it.each([
    ['rtsp://h:8554/live', { path: 'live' }],
    ['rtsp://user:pw@other:554/live/', { path: 'live' }],
    ['rtsp://h/live/trackID=0', { path: 'live', track: 0 }],
    ['rtsp://h/live/trackID=0?token=1', { path: 'live', track: 0 }],
    ['rtsp://h/live?token=1/trackID=0', { path: 'live', track: 0 }],
    ['rtsp://h/cams/1/trackID=2', { path: 'cams/1', track: 2 }],
    ['/cams/1?x=y', { path: 'cams/1' }],
    ['*', { path: '*' }],
    ['rtsp://h/stream=0', { path: 'stream=0' }],
  ])('%s', (url, want) => {
    expect(parseRequestTarget(url)).toEqual(want);
  });

  it('validates mount paths', () => {
    expect(validateMountPath('cams/1')).toBe('cams/1');
    for (const bad of ['', '/live', 'live/', 'a//b', 'a b', 'x/trackID=0', '..', 'a?b']) {
      expect(() => validateMountPath(bad), bad).toThrow(InvalidMountPathError);
    }
  });
});

describe('Authenticator', () => {
  const auth = new Authenticator({ user: 'admin', password: 's3cret' }, 'sie', 'abc123');
  const basic = (s: string): string => `Basic ${Buffer.from(s).toString('base64')}`;
  const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

  it('offers Digest MD5 and Basic', () => {
    expect(auth.challenges()).toEqual(['Digest realm="sie", nonce="abc123", algorithm=MD5', 'Basic realm="sie"']);
    expect(new Authenticator({ user: 'a', password: 'b', methods: ['basic'] }, 'r').challenges()).toEqual(['Basic realm="r"']);
  });

  it.each([
    [undefined, 'missing'],
    ['Basic Og==', 'missing'],
    [basic('admin:s3cret'), 'ok'],
    [basic('admin:wrong'), 'wrong'],
    [basic('root:s3cret'), 'wrong'],
    ['Bearer xyz', 'wrong'],
  ])('Basic %s → %s', (header, want) => {
    expect(auth.check('DESCRIBE', header)).toBe(want);
  });

  it('verifies Digest over the uri as the client sent it, with and without qop', () => {
    const ha1 = md5('admin:sie:s3cret');
    const uri = 'rtsp://127.0.0.1:8554/live/';
    const resp = md5(`${ha1}:abc123:${md5(`SETUP:${uri}`)}`);
    expect(auth.check('SETUP', `Digest username="admin", realm="sie", nonce="abc123", uri="${uri}", response="${resp}"`)).toBe('ok');
    expect(auth.check('DESCRIBE', `Digest username="admin", realm="sie", nonce="abc123", uri="${uri}", response="${resp}"`)).toBe('wrong');
    expect(auth.check('SETUP', `Digest username="admin", realm="sie", nonce="other", uri="${uri}", response="${resp}"`)).toBe('wrong');
    const q = md5(`${ha1}:abc123:00000001:xyz:auth:${md5(`PLAY:/live`)}`);
    expect(auth.check('PLAY', `Digest username="admin", realm="sie", nonce="abc123", uri="/live", qop=auth, nc=00000001, cnonce="xyz", response="${q}"`)).toBe('ok');
  });
});

describe('SDP', () => {
  const sps = Buffer.from('6742c01ed9', 'hex');
  const pps = Buffer.from('68ce3c80', 'hex');

  it('writes the H.264 description clients expect', () => {
    expect(profileLevelId(sps)).toBe('42c01e');
    expect(buildSdp('h264', { sps, pps })).toBe(
      [
        'v=0',
        'o=- 0 0 IN IP4 127.0.0.1',
        's=Stream',
        'c=IN IP4 0.0.0.0',
        't=0 0',
        'm=video 0 RTP/AVP 96',
        'a=rtpmap:96 H264/90000',
        `a=fmtp:96 packetization-mode=1; profile-level-id=42c01e; sprop-parameter-sets=${sps.toString('base64')},${pps.toString('base64')}`,
        'a=control:trackID=0',
        '',
      ].join('\r\n'),
    );
  });

  it('writes sprop-vps/sps/pps for H.265', () => {
    const vps = Buffer.from('40010c01', 'hex');
    const sdp = buildSdp('h265', { vps, sps: Buffer.from('420101', 'hex'), pps: Buffer.from('4401c1', 'hex') });
    expect(sdp).toContain('a=rtpmap:96 H265/90000\r\n');
    expect(sdp).toContain(`a=fmtp:96 sprop-vps=QAEMAQ==; sprop-sps=QgEB; sprop-pps=RAHB\r\n`);
    expect(sdp).not.toContain('sprop-max-don-diff');
  });
});
