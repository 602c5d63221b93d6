import { describe, expect, it } from 'vitest';
import { h264Payloads } from '../../../src/io/rtsp/h264Packetizer.js';
import { h265Payloads } from '../../../src/io/rtsp/h265Packetizer.js';
import { buildBye, buildSenderReport, ntpTime, rtcpPacketTypes } from '../../../src/io/rtsp/rtcp.js';
import { RtpPacketizer } from '../../../src/io/rtsp/rtp.js';
import { rtpInfo } from '../../helpers/rtspClient.js';

function nal(header: number[], size: number): Buffer {
  const n = Buffer.alloc(size);
  Buffer.from(header).copy(n);
  for (let i = header.length; i < size; i++) n[i] = (i * 7 + 3) & 0xff;
  return n;
}

describe('H.264 packetizer (RFC 6184)', () => {
  it('sends a NAL unit that fits as a single NAL unit packet', () => {
    const n = nal([0x67], 1400);
    expect(h264Payloads(n)).toEqual([n]);
  });

  it('fragments larger ones into FU-A with S/E bits and the original header folded in', () => {
    const n = nal([0x65], 5000);
    const ps = h264Payloads(n);
    expect(ps).toHaveLength(Math.ceil(4999 / 1398));
    for (const p of ps) {
      expect(p.length).toBeLessThanOrEqual(1400);
      expect(p[0]).toBe(0x7c); // F=0, NRI=3 from 0x65, type 28
      expect(p[1]! & 0x1f).toBe(5);
    }
    expect(ps.map((p) => p[1]! & 0xc0)).toEqual([0x80, 0x00, 0x00, 0x40]);
    // Reassembly as a receiver does it restores the NAL unit exactly.
    const header = (ps[0]![0]! & 0xe0) | (ps[0]![1]! & 0x1f);
    expect(Buffer.concat([Buffer.from([header]), ...ps.map((p) => p.subarray(2))])).toEqual(n);
  });

  it('uses two fragments just past the limit and honours a smaller maximum', () => {
    expect(h264Payloads(nal([0x41], 1401))).toHaveLength(2);
    const small = h264Payloads(nal([0x41], 100), 40);
    expect(small.every((p) => p.length <= 40)).toBe(true);
    expect(small.map((p) => p[0])).toEqual(small.map(() => 0x40 | 28));
  });
});

describe('H.265 packetizer (RFC 7798)', () => {
  it('fragments into FU with a 2-byte PayloadHdr of type 49 and a FU header', () => {
    const n = nal([0x26, 0x01], 4000); // IDR_W_RADL (19), TID 1
    const ps = h265Payloads(n);
    expect(ps).toHaveLength(Math.ceil(3998 / 1397));
    for (const p of ps) {
      expect(p.length).toBeLessThanOrEqual(1400);
      expect([p[0], p[1]]).toEqual([49 << 1, 0x01]);
      expect(p[2]! & 0x3f).toBe(19);
    }
    expect(ps.map((p) => p[2]! & 0xc0)).toEqual([0x80, 0x00, 0x40]);
    expect(Buffer.concat([n.subarray(0, 2), ...ps.map((p) => p.subarray(3))])).toEqual(n);
  });

  it('keeps F, LayerId and TID in the PayloadHdr', () => {
    const ps = h265Payloads(nal([0x83, 0x0b], 2000)); // F=1, type 1, LayerId high bit set, TID 3
    expect(ps[0]![0]).toBe(0x80 | (49 << 1) | 0x01);
    expect(ps[0]![1]).toBe(0x0b);
    expect(ps[0]![2]).toBe(0x80 | 1);
  });

  it('sends small NAL units whole', () => {
    const n = nal([0x40, 0x01], 30);
    expect(h265Payloads(n)).toEqual([n]);
  });
});

describe('RtpPacketizer', () => {
  it('stamps all packets of an AU alike, marks only the last, and counts seq across AUs with wrap', () => {
    const p = new RtpPacketizer('h264', { ssrc: 0xdeadbeef, initialSeq: 65534, timestampOffset: 1000 });
    const au = [nal([0x67, 0x42, 0xc0, 0x1e], 12), nal([0x68], 4), nal([0x65], 3000)];
    const pk = p.packetize(au, 1).map(rtpInfo);
    expect(pk).toHaveLength(2 + 3);
    expect(pk.map((x) => x.seq)).toEqual([65534, 65535, 0, 1, 2]);
    expect(pk.map((x) => x.marker)).toEqual([false, false, false, false, true]);
    expect(new Set(pk.map((x) => x.ts))).toEqual(new Set([1000 + 90000]));
    expect(pk.every((x) => x.pt === 96 && x.ssrc === 0xdeadbeef)).toBe(true);
    const next = p.packetize([nal([0x41], 10)], 1.04).map(rtpInfo);
    expect(next[0]).toMatchObject({ seq: 3, ts: 1000 + 93600, marker: true });
  });

  it('wraps timestamps at 2^32 and picks random SSRC/seq/offset by default', () => {
    const p = new RtpPacketizer('h265', { timestampOffset: 2 ** 32 - 10 });
    expect(p.rtpTime(1)).toBe(90000 - 10);
    const a = new RtpPacketizer('h264');
    const b = new RtpPacketizer('h264');
    expect([a.ssrc, a.timestampOffset, a.nextSeq]).not.toEqual([b.ssrc, b.timestampOffset, b.nextSeq]);
  });

  it('writes version 2 headers with no padding, extension or CSRC', () => {
    const [pkt] = new RtpPacketizer('h264').packetize([nal([0x41], 20)], 0);
    expect(pkt![0]).toBe(0x80);
    expect(pkt!.length).toBe(32);
  });
});

describe('RTCP', () => {
  it('builds a compound SR + SDES CNAME with NTP time, RTP time and counts', () => {
    const wallMs = Date.UTC(2024, 0, 1, 0, 0, 0, 500);
    const buf = buildSenderReport({ ssrc: 0x01020304, wallMs, rtpTime: 123456, packetCount: 77, octetCount: 99999, cname: 'sie-abc' });
    expect(rtcpPacketTypes(buf)).toEqual([200, 202]);
    expect(buf.length % 4).toBe(0);
    expect(buf.readUInt16BE(2)).toBe(6);
    expect(buf.readUInt32BE(4)).toBe(0x01020304);
    expect(buf.readUInt32BE(8)).toBe(Math.floor(wallMs / 1000) + 2_208_988_800);
    expect(buf.readUInt32BE(12)).toBe(2 ** 31);
    expect([buf.readUInt32BE(16), buf.readUInt32BE(20), buf.readUInt32BE(24)]).toEqual([123456, 77, 99999]);
    const sdes = buf.subarray(28);
    expect((sdes.readUInt16BE(2) + 1) * 4).toBe(sdes.length);
    expect([sdes.readUInt32BE(4), sdes[8], sdes[9]]).toEqual([0x01020304, 1, 7]);
    expect(sdes.subarray(10, 17).toString()).toBe('sie-abc');
    expect(sdes[17]).toBe(0); // END item
  });

  it('builds RR + BYE', () => {
    const bye = buildBye(42);
    expect(rtcpPacketTypes(bye)).toEqual([201, 203]);
    expect(bye.readUInt32BE(12)).toBe(42);
  });

  it('converts Unix milliseconds to NTP', () => {
    expect(ntpTime(0)).toEqual({ seconds: 2_208_988_800, fraction: 0 });
    expect(ntpTime(250).fraction).toBe(2 ** 30);
  });
});
