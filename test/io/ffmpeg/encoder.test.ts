import { describe, expect, it } from 'vitest';
import { FfmpegEncoder, defaultEncoderSettings, encoderArgs } from '../../../src/io/ffmpeg/encoder.js';
import { FlvFormatError } from '../../../src/io/ffmpeg/flvVideo.js';
import type { SieError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/log.js';
import { fakeFfmpeg } from '../../helpers/fakeFfmpeg.js';
import { runFfmpeg } from '../../helpers/media.js';

const W = 160;
const H = 96;
const type = (n: Buffer): number => n[0]! & 0x1f;

describe('encoderArgs', () => {
  it("'pipe' writes FLV flushed per packet, without the Annex B helpers; push and file keep them", () => {
    const base = { width: W, height: H, fps: 10, settings: defaultEncoderSettings };
    const pipe = encoderArgs({ ...base, output: { kind: 'pipe' } });
    expect(pipe.slice(-5)).toEqual(['-flush_packets', '1', '-f', 'flv', 'pipe:1']);
    expect(pipe).not.toContain('h264_metadata=aud=insert');
    expect(pipe).not.toContain('repeat-headers=1');
    for (const output of [{ kind: 'push', url: 'rtsp://127.0.0.1:1/x' }, { kind: 'file', path: '/tmp/x.mp4' }] as const) {
      const args = encoderArgs({ ...base, output });
      expect(args).toContain('repeat-headers=1');
      expect(args).toContain('h264_metadata=aud=insert');
    }
    // The x264 settings are the same whatever the output.
    const x264 = (a: string[]) => a.slice(a.indexOf('-c:v'), a.indexOf('-pix_fmt', a.indexOf('-c:v')) + 2);
    expect(x264(pipe)).toEqual(x264(encoderArgs({ ...base, output: { kind: 'push', url: 'rtsp://127.0.0.1:1/x' } })));
  });
});

describe("FfmpegEncoder with output 'pipe'", () => {
  it('hands back one access unit per picture, in order, IDR ones beginning with SPS and PPS', async () => {
    const frames = 12;
    const raw = await runFfmpeg(['-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=10`, '-frames:v', String(frames), '-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1']);
    const aus: Buffer[][] = [];
    let exitErr: SieError | undefined;
    const enc = new FfmpegEncoder({
      width: W,
      height: H,
      fps: 10,
      settings: { ...defaultEncoderSettings, keyframeIntervalS: 0.5 },
      output: { kind: 'pipe' },
      logger: silentLogger,
      onAccessUnit: (nalus) => aus.push(nalus),
      onExit: (err) => (exitErr = err),
    });
    const size = (W * H * 3) / 2;
    for (let k = 0; k < frames; k++) await enc.write(raw.subarray(k * size, (k + 1) * size));
    expect(await enc.finish()).toBe(0);
    expect(exitErr).toBeUndefined();
    expect(enc.accessUnits).toBe(frames);
    expect(aus.map((au) => au.map(type).filter((t) => t !== 6))).toEqual(
      Array.from({ length: frames }, (_, k) => (k % 5 === 0 ? [7, 8, 5] : [1])),
    );
  });

  describe('when ffmpeg writes something that is not FLV', () => {
    const fake = fakeFfmpeg('encoder-flv', { ffmpeg: ["printf 'not flv at all'", 'exec cat > /dev/null'] });

    it('reports it through onExit (as a dead encoder, so the clock starts another) and stops ffmpeg', async () => {
      fake.install();
      try {
        let got!: (err: SieError | undefined) => void;
        const exited = new Promise<SieError | undefined>((r) => (got = r));
        const aus: Buffer[][] = [];
        const enc = new FfmpegEncoder({
          width: W,
          height: H,
          fps: 10,
          settings: defaultEncoderSettings,
          output: { kind: 'pipe' },
          logger: silentLogger,
          onAccessUnit: (nalus) => aus.push(nalus),
          onExit: got,
        });
        const err = await exited;
        expect(err).toBeInstanceOf(FlvFormatError);
        expect(err?.message).toMatch(/not an FLV stream: signature/);
        expect(err?.kind).toBe('internal_error');
        expect(aus).toEqual([]);
        // It takes nothing more; the stand-in (which would read stdin forever) was sent SIGTERM at once.
        expect(enc.tryWrite(Buffer.alloc((W * H * 3) / 2))).toBe(false);
        const t0 = Date.now();
        await enc.stop(30_000);
        expect(Date.now() - t0, 'exited without waiting for a SIGKILL').toBeLessThan(10_000);
      } finally {
        fake.restore();
      }
    });
  });
});
