import { beforeAll, describe, expect, it } from 'vitest';
import { FlvFormatError, FlvVideoDemuxer } from '../../../src/io/ffmpeg/flvVideo.js';
import { defaultEncoderSettings, encoderArgs } from '../../../src/io/ffmpeg/encoder.js';
import { AccessUnitSplitter } from '../../../src/io/rtsp/annexb.js';
import { runFfmpeg } from '../../helpers/media.js';

const W = 160;
const H = 96;
const FRAMES = 12;
const FPS = 10;
const FRAME_BYTES = (W * H * 3) / 2;
/** Keyframe every 5 frames: IDRs at 0, 5 and 10. */
const IDR_AT = [0, 5, 10];

const type = (n: Buffer): number => n[0]! & 0x1f;
const isParamSet = (n: Buffer): boolean => type(n) === 7 || type(n) === 8;

/** ffmpeg #2's own pipe output (our encoderArgs) for FRAMES frames of testsrc2. */
let flv: Buffer;
let raw: Buffer;

beforeAll(async () => {
  raw = await runFfmpeg(['-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=${FPS}`, '-frames:v', String(FRAMES), '-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1']);
  const settings = { ...defaultEncoderSettings, keyframeIntervalS: 0.5 };
  flv = await runFfmpeg(encoderArgs({ width: W, height: H, fps: FPS, settings, output: { kind: 'pipe' } }), raw);
});

/** Every access unit of `stream`, pushed in the given pieces. */
function demux(pieces: Buffer[]): { aus: Buffer[][]; demuxer: FlvVideoDemuxer } {
  const aus: Buffer[][] = [];
  const demuxer = new FlvVideoDemuxer((au) => aus.push(au));
  for (const p of pieces) demuxer.push(p);
  return { aus, demuxer };
}

function cut(buf: Buffer, sizes: () => number): Buffer[] {
  const out: Buffer[] = [];
  // Copies, as a pipe hands them: no piece shares memory with the whole stream.
  for (let pos = 0; pos < buf.length; ) {
    const n = Math.max(1, sizes());
    out.push(Buffer.from(buf.subarray(pos, pos + n)));
    pos += n;
  }
  return out;
}

/** A seeded generator (mulberry32), so a failing cut can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Access units as text: vitest compares Buffers byte by byte through generic iteration, far too slowly here. */
const text = (aus: Buffer[][]): string[] => aus.map((au) => au.map((n) => n.toString('base64')).join(' '));

const annexB = (aus: Buffer[][]): Buffer => Buffer.concat(aus.flat().flatMap((n) => [Buffer.from([0, 0, 0, 1]), n]));

/** The offset of the first AVC NALU tag's data in `flv` (script and sequence-header tags come first). */
function firstNaluTag(buf: Buffer): number {
  let pos = 9 + 4;
  for (;;) {
    const size = buf.readUIntBE(pos + 1, 3);
    if (buf[pos] === 9 && buf[pos + 12] === 1) return pos + 11;
    pos += 11 + size + 4;
  }
}

describe('FlvVideoDemuxer on ffmpeg #2 output', () => {
  it('gives one access unit per picture; IDR ones begin with SPS and PPS from the configuration record', () => {
    const { aus, demuxer } = demux([flv]);
    expect(aus).toHaveLength(FRAMES);
    const config = demuxer.config!;
    expect(config.lengthSize).toBe(4);
    expect(config.sps.map(type)).toEqual([7]);
    expect(config.pps.map(type)).toEqual([8]);
    aus.forEach((au, k) => {
      const vcl = au.filter((n) => type(n) >= 1 && type(n) <= 5).map(type);
      expect(vcl, `frame ${k}`).toEqual([IDR_AT.includes(k) ? 5 : 1]);
      if (IDR_AT.includes(k)) {
        expect(au[0]!.equals(config.sps[0]!), `frame ${k} starts with the SPS`).toBe(true);
        expect(au[1]!.equals(config.pps[0]!), `frame ${k} then the PPS`).toBe(true);
      } else {
        expect(au.some(isParamSet), `frame ${k}`).toBe(false);
      }
      // No AUD, no empty NAL unit, no length prefix left (a forbidden_zero_bit would be set by garbage).
      for (const n of au) {
        expect(n.length).toBeGreaterThan(0);
        expect(type(n)).not.toBe(9);
        expect(n[0]! & 0x80).toBe(0);
      }
    });
  });

  it('with in-band parameter sets (repeat-headers=1), an IDR begins with them, once, its SEI after them', async () => {
    const settings = { ...defaultEncoderSettings, keyframeIntervalS: 0.5 };
    const args = encoderArgs({ width: W, height: H, fps: FPS, settings, output: { kind: 'pipe' } });
    args.splice(args.indexOf('-flush_packets'), 0, '-x264-params', 'repeat-headers=1');
    const inBand = await runFfmpeg(args, raw);
    const { aus, demuxer } = demux([inBand]);
    expect(aus).toHaveLength(FRAMES);
    // ffmpeg puts x264's version SEI in front of the first picture, before x264's own SPS and PPS.
    expect(aus[0]!.map(type)).toEqual([7, 8, 6, 6, 5]);
    expect(aus[0]![0]!.equals(demuxer.config!.sps[0]!)).toBe(true);
    for (const k of IDR_AT.slice(1)) expect(aus[k]!.map(type)).toEqual([7, 8, 5]);
  });

  it('gives the NAL units ffmpeg itself finds in the stream (remuxed to Annex B, split independently)', async () => {
    const ref: Buffer[][] = [];
    const splitter = new AccessUnitSplitter('h264', (au) => ref.push(au));
    splitter.push(await runFfmpeg(['-f', 'flv', '-i', 'pipe:0', '-c', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', 'pipe:1'], flv));
    splitter.flush();
    const { aus } = demux([flv]);
    expect(ref).toHaveLength(FRAMES);
    const withoutParamSets = (x: Buffer[][]) => text(x.map((au) => au.filter((n) => !isParamSet(n))));
    expect(withoutParamSets(aus)).toEqual(withoutParamSets(ref));
  });

  it('a reader may start at any IDR: decoding from the second one gives the same pictures as from the start', async () => {
    const { aus } = demux([flv]);
    const decode = (from: number) => runFfmpeg(['-f', 'h264', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'], annexB(aus.slice(from)));
    const [all, late] = await Promise.all([decode(0), decode(IDR_AT[1]!)]);
    expect(all.length).toBe(FRAMES * FRAME_BYTES);
    expect(late.length).toBe((FRAMES - IDR_AT[1]!) * FRAME_BYTES);
    expect(late.equals(all.subarray(IDR_AT[1]! * FRAME_BYTES))).toBe(true);
  });

  it.each([
    ['1 byte', () => 1],
    ['7 bytes', () => 7],
    ['random sizes', ((r) => () => 1 + Math.floor(r() * 3000))(random(42))],
    ['random small sizes', ((r) => () => 1 + Math.floor(r() * 20))(random(7))],
  ])('gives the same access units whatever the chunks: %s', (_, sizes) => {
    const want = text(demux([flv]).aus);
    expect(text(demux(cut(flv, sizes)).aus)).toEqual(want);
  });

  it('splits several tags in one chunk and one tag over many, wherever the cut falls', () => {
    const want = text(demux([flv]).aus);
    for (let k = 1; k < flv.length; k += 97) expect(text(demux([flv.subarray(0, k), flv.subarray(k)]).aus), `cut at ${k}`).toEqual(want);
  });

  it('hands out views of the chunk, not copies, when a tag lies within it', () => {
    const { aus } = demux([flv]);
    const slices = aus.flat().filter((n) => !isParamSet(n));
    for (const n of slices) expect(n.buffer).toBe(flv.buffer);
  });

  it('gives nothing for a tag cut short at the end, and says how much is pending', () => {
    const end = firstNaluTag(flv) + 20;
    const { aus, demuxer } = demux([flv.subarray(0, end)]);
    expect(aus).toEqual([]);
    expect(demuxer.pendingBytes).toBeGreaterThan(0);
  });
});

describe('FlvVideoDemuxer on a malformed stream', () => {
  const fails = (buf: Buffer, message: RegExp): void => {
    expect(() => new FlvVideoDemuxer(() => undefined).push(buf)).toThrow(FlvFormatError);
    expect(() => new FlvVideoDemuxer(() => undefined).push(buf)).toThrow(message);
  };

  it('rejects a bad signature', () => {
    const buf = Buffer.from(flv);
    buf.write('MP4', 0, 'latin1');
    fails(buf, /not an FLV stream: signature 4d5034/);
  });

  it('rejects an Annex B stream handed to it by mistake', () => {
    fails(Buffer.from([0, 0, 0, 1, 0x67, 0x42, 0, 0x0a, 0xff, 0xff, 0xff, 0xff]), /not an FLV stream/);
  });

  it('rejects a NAL unit length past the end of its tag', () => {
    const buf = Buffer.from(flv);
    const data = firstNaluTag(buf);
    buf.writeUInt32BE(0x00ff_ffff, data + 5);
    fails(buf, /NAL unit of 16777215 bytes past the end of the tag/);
  });

  it('rejects a tag whose PreviousTagSize does not match (the stream lost its place)', () => {
    const buf = Buffer.from(flv);
    const data = firstNaluTag(buf);
    const size = buf.readUIntBE(data - 11 + 1, 3);
    buf.writeUInt32BE(0, data + size);
    fails(buf, /PreviousTagSize 0 after a tag of/);
  });

  it('rejects video that is not H.264', () => {
    const buf = Buffer.from(flv);
    const data = firstNaluTag(buf);
    buf[data] = (buf[data]! & 0xf0) | 12; // codec id 12: HEVC as some muxers write it
    fails(buf, /video tag of codec 12, not H.264/);
  });

  it('rejects NAL units before any configuration record', () => {
    const data = firstNaluTag(flv);
    const tag = flv.subarray(data - 11, data + flv.readUIntBE(data - 10, 3) + 4);
    fails(Buffer.concat([flv.subarray(0, 13), tag]), /before the AVCDecoderConfigurationRecord/);
  });

  it('keeps failing after the first error, and no access unit after it gets out', () => {
    const buf = Buffer.from(flv);
    buf.writeUInt32BE(0x00ff_ffff, firstNaluTag(buf) + 5);
    const aus: Buffer[][] = [];
    const d = new FlvVideoDemuxer((au) => aus.push(au));
    expect(() => d.push(buf)).toThrow(FlvFormatError);
    expect(() => d.push(flv)).toThrow(/past the end of the tag/);
    expect(aus).toEqual([]);
  });
});
