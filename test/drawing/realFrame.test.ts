/**
 * The annotator on a real decoded frame, checked the way a viewer sees it: ffmpeg turns our yuv420p
 * into RGB (its default BT.601 conversion) and the box edges must come out in the class colour.
 * Set SIE_DRAWING_SAMPLE=/tmp/sie-drawing-sample.png to keep the PNGs for a look.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDetections } from '../../src/detections.js';
import { createBoxAnnotator } from '../../src/drawing/boxAnnotator.js';
import { Palette } from '../../src/drawing/palette.js';
import { drawSlate, prepareSlate } from '../../src/drawing/slate.js';
import { yuv420pSize } from '../../src/frame.js';
import { PLAZA, SHARED, runFfmpeg } from '../helpers/media.js';

const W = 768;
const H = 576;

const ffmpeg = runFfmpeg;

const toPng = (pixels: Uint8Array, file: string): Promise<Buffer> =>
  ffmpeg(['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${W}x${H}`, '-i', '-', '-y', file], pixels);

/** Hand-placed on frame 300: five pedestrians on the path, the white van and the car cut by the right edge. */
const BOXES: [number, number, number, number, number, number][] = [
  [186, 158, 220, 235, 0.91, 0],
  [243, 157, 271, 221, 0.84, 0],
  [297, 157, 325, 231, 0.78, 0],
  [313, 209, 346, 297, 0.93, 0],
  [581, 157, 613, 237, 0.88, 0],
  [617, 159, 645, 235, 0.67, 0],
  [651, 43, 725, 101, 0.95, 2],
  [733, 51, 768, 93, 0.58, 2],
];

describe('drawing on a real frame', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sie-drawing-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('box edges come out in the class colour after ffmpeg converts to RGB', async () => {
    const pixels = await ffmpeg(['-i', PLAZA, '-vf', 'select=eq(n\\,300)', '-vsync', '0', '-frames:v', '1',
      '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-']);
    expect(pixels.length).toBe(yuv420pSize({ width: W, height: H }));

    const labels = readFileSync(join(SHARED, 'models/coco_classes.txt'), 'utf8').split('\n').filter(Boolean);
    const ann = await createBoxAnnotator({ width: W, height: H, labels });
    const frame = { pixels, width: W, height: H };
    ann.draw(frame, makeDetections({
      xyxy: Float32Array.from(BOXES.flatMap((b) => b.slice(0, 4))),
      confidence: Float32Array.from(BOXES.map((b) => b[4])),
      classId: Int32Array.from(BOXES.map((b) => b[5])),
    }));
    const png = join(dir, 'boxes.png');
    await toPng(pixels, png);
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([W, H]);
    const rgbAt = (x: number, y: number): number[] => [...data.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)];

    const palette = new Palette();
    const t = ann.metrics.thickness;
    for (const [x1, y1, x2, y2, , cls] of BOXES) {
      const want = palette.forClass(cls).rgb;
      const bx1 = Math.floor(x1 / 2) * 2;
      const bx2 = Math.min(W, Math.ceil(x2 / 2) * 2);
      const by2 = Math.ceil(y2 / 2) * 2;
      const midY = Math.floor((y1 + y2) / 2);
      const midX = Math.floor((x1 + x2) / 2);
      // Left and right sides at mid-height, the bottom side at mid-width: inside the stroke.
      for (const [x, y] of [[bx1 + (t >> 1), midY], [bx2 - 1 - (t >> 1), midY], [midX, by2 - 1 - (t >> 1)]] as const) {
        const got = rgbAt(x, y);
        const err = Math.max(Math.abs(got[0]! - want.r), Math.abs(got[1]! - want.g), Math.abs(got[2]! - want.b));
        expect(err, `box ${x1},${y1} class ${cls} at ${x},${y}: got ${got.join(',')}, want ${want.r},${want.g},${want.b}`)
          .toBeLessThanOrEqual(12);
      }
    }

    if (process.env.SIE_DRAWING_SAMPLE) copyFileSync(png, process.env.SIE_DRAWING_SAMPLE);
  });

  it('a slate over the same frame renders', async () => {
    const pixels = await ffmpeg(['-i', PLAZA, '-vf', 'select=eq(n\\,300)', '-vsync', '0', '-frames:v', '1',
      '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-']);
    await prepareSlate({ width: W, height: H });
    expect(drawSlate({ pixels, width: W, height: H }, ['SIGNAL LOST', '12 s'])).toBe(true);
    const png = join(dir, 'slate.png');
    await toPng(pixels, png);
    const stats = await sharp(png).stats();
    expect(stats.channels[0]!.mean).toBeLessThan(80); // dimmed overall
    if (process.env.SIE_DRAWING_SAMPLE) copyFileSync(png, process.env.SIE_DRAWING_SAMPLE.replace(/\.png$/, '') + '-slate.png');
  });
});
