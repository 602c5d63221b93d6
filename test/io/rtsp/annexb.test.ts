import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { AccessUnitSplitter } from '../../../src/io/rtsp/annexb.js';
import { isKeyframe, nalType } from '../../../src/io/rtsp/nal.js';
import type { VideoCodec } from '../../../src/io/rtsp/types.js';

const SC3 = Buffer.from([0, 0, 1]);
const SC4 = Buffer.from([0, 0, 0, 1]);
const b = (...bytes: number[]): Buffer => Buffer.from(bytes);

// H.264 NAL units; the slices contain 00 00 03 (emulation prevention) and zero runs on purpose.
const AUD264 = b(0x09, 0xf0);
const SPS = b(0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0x00, 0x03, 0x01, 0x40);
const PPS = b(0x68, 0xce, 0x3c, 0x80);
const IDR = b(0x65, 0x88, 0x84, 0x00, 0x00, 0x03, 0x00, 0x21, 0xff);
const P1 = b(0x41, 0x9a, 0x00, 0x12, 0x34);
const P2 = b(0x41, 0x9a, 0x21, 0x00, 0x00, 0x03, 0x02, 0x77);
/** Second slice of a picture: first_mb_in_slice != 0, so its first payload bit is 0. */
const P2b = b(0x41, 0x40, 0x55);

function annexB(nalus: Buffer[], fourByteEvery = 2): Buffer {
  return Buffer.concat(nalus.flatMap((n, i) => [i % fourByteEvery === 0 ? SC4 : SC3, n]));
}

function splitAll(codec: VideoCodec, chunks: Buffer[]): Buffer[][] {
  const out: Buffer[][] = [];
  const s = new AccessUnitSplitter(codec, (au) => out.push(au));
  for (const c of chunks) s.push(c);
  s.flush();
  return out;
}

describe('AccessUnitSplitter', () => {
  const stream = annexB([AUD264, SPS, PPS, IDR, AUD264, P1, AUD264, P2, P2b]);
  const expected = [[SPS, PPS, IDR], [P1], [P2, P2b]];

  it('splits on AUD and strips start codes and AUDs', () => {
    expect(splitAll('h264', [stream])).toEqual(expected);
  });

  it('gives the same result for a split at every offset, 3- and 4-byte start codes alike', () => {
    for (let k = 0; k <= stream.length; k++) {
      expect(splitAll('h264', [stream.subarray(0, k), stream.subarray(k)]), `split at ${k}`).toEqual(expected);
    }
    for (let k = 1; k < stream.length - 1; k++) {
      const parts = [stream.subarray(0, k), stream.subarray(k, k + 2), stream.subarray(k + 2)];
      expect(splitAll('h264', parts), `3 parts at ${k}`).toEqual(expected);
    }
  });

  it('works byte by byte and ignores garbage before the first start code', () => {
    const withGarbage = Buffer.concat([b(0xff, 0x00, 0x12), stream]);
    expect(splitAll('h264', [...withGarbage].map((x) => b(x)))).toEqual(expected);
  });

  it('emits an AU only once the next one starts, and the last one on flush', () => {
    const out: Buffer[][] = [];
    const s = new AccessUnitSplitter('h264', (au) => out.push(au));
    s.push(annexB([AUD264, SPS, PPS, IDR]));
    expect(out).toHaveLength(0);
    s.push(annexB([AUD264, P1]));
    expect(out).toEqual([[SPS, PPS, IDR]]);
    s.flush();
    expect(out).toEqual([[SPS, PPS, IDR], [P1]]);
  });

  it('finds AU boundaries without AUD from parameter sets and first slices', () => {
    expect(splitAll('h264', [annexB([SPS, PPS, IDR, P1, P2, P2b, SPS, PPS, IDR])])).toEqual([[SPS, PPS, IDR], [P1], [P2, P2b], [SPS, PPS, IDR]]);
  });

  it('splits H.265 on AUD type 35', () => {
    const aud = b(0x46, 0x01, 0x50);
    const vps = b(0x40, 0x01, 0x0c, 0x01);
    const sps = b(0x42, 0x01, 0x01, 0x01);
    const pps = b(0x44, 0x01, 0xc1, 0x72);
    const idr = b(0x26, 0x01, 0xaf, 0x00, 0x00, 0x03, 0x01);
    const trail = b(0x02, 0x01, 0xd0, 0x11);
    const s = annexB([aud, vps, sps, pps, idr, aud, trail, aud, trail]);
    const want = [[vps, sps, pps, idr], [trail], [trail]];
    for (let k = 0; k <= s.length; k++) expect(splitAll('h265', [s.subarray(0, k), s.subarray(k)])).toEqual(want);
    expect(isKeyframe('h265', want[0]!)).toBe(true);
    expect(isKeyframe('h265', want[1]!)).toBe(false);
  });

  it.each([
    ['h264', 'libx264', 'h264_metadata', 'h264', []],
    ['h265', 'libx265', 'hevc_metadata', 'hevc', ['-x265-params', 'log-level=error']],
  ] as const)('splits real %s encoder output into one AU per frame', (codec, encoder, bsf, fmt, extra) => {
    const r = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x96:rate=25', '-frames:v', '12', '-c:v', encoder, '-preset', 'ultrafast', '-bf', '0', '-g', '5', ...extra, '-bsf:v', `${bsf}=aud=insert`, '-f', fmt, '-'], { maxBuffer: 1 << 24 });
    expect(r.status, r.stderr.toString()).toBe(0);
    const aus = splitAll(codec, [r.stdout]);
    expect(aus).toHaveLength(12);
    expect(aus.map((au) => isKeyframe(codec, au))).toEqual([true, false, false, false, false, true, false, false, false, false, true, false]);
    const aud = codec === 'h264' ? 9 : 35;
    expect(aus.flat().some((n) => nalType(codec, n) === aud)).toBe(false);
  });
});

describe('isKeyframe', () => {
  it.each([
    ['h264', [SPS, PPS, IDR], true],
    ['h264', [P1], false],
    ['h264', [SPS, PPS], false],
    ['h265', [b(0x2a, 0x01)], true], // CRA (21)
    ['h265', [b(0x20, 0x01)], true], // BLA_W_LP (16)
    ['h265', [b(0x2c, 0x01)], false], // 22: reserved IRAP, not a keyframe we accept
    ['h265', [b(0x02, 0x01)], false],
  ] as const)('%s %#', (codec, nalus, want) => {
    expect(isKeyframe(codec, nalus as unknown as Buffer[])).toBe(want);
  });
});
