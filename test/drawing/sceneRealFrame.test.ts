/**
 * The full scene on a real decoded frame (plaza, frame 300): pixelated person, a zone over the parked
 * vehicles, a counting line across the walkway, tracked boxes with trails, one highlighted, the header.
 * The PNG is written to /tmp/sie-scene-sample.png (or SIE_SCENE_SAMPLE) for a human look.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { makeDetections, type Detections } from '../../src/detections.js';
import { createSceneRenderer } from '../../src/drawing/scene.js';
import type { LineDrawing } from '../../src/drawing/lineAnnotator.js';
import type { ZoneDrawing } from '../../src/drawing/zoneAnnotator.js';
import { yuv420pSize } from '../../src/frame.js';
import { PLAZA, SHARED, runFfmpeg } from '../helpers/media.js';

const OUT = process.env.SIE_SCENE_SAMPLE ?? '/tmp/sie-scene-sample.png';
const W = 768;
const H = 576;

const ffmpeg = runFfmpeg;

/** Frame-300 boxes [x1, y1, x2, y2, conf, class, track, dx per frame (for the synthetic history)]. */
const OBJECTS: [number, number, number, number, number, number, number, number][] = [
  [186, 158, 220, 235, 0.91, 0, 3, 2.5],
  [243, 157, 271, 221, 0.84, 0, 4, 2],
  [297, 157, 325, 231, 0.78, 0, 5, -1.5],
  [313, 209, 346, 297, 0.93, 0, 12, 1.8],
  [581, 157, 613, 237, 0.88, 0, 17, -2.2],
  [617, 159, 645, 235, 0.67, 0, 18, -2],
  [651, 43, 725, 101, 0.95, 2, 21, 0],
  [733, 51, 768, 93, 0.58, 2, 22, 0],
];

/** The objects as they were `back` frames ago: walkers slide along x and drift a little in y. */
function at(back: number): Detections {
  return makeDetections({
    xyxy: Float32Array.from(OBJECTS.flatMap(([x1, y1, x2, y2, , , t, dx]) => {
      const sx = -dx * back;
      const sy = dx === 0 ? 0 : Math.sin((back + t) / 3) * 3 + back * (t % 2 === 0 ? 0.6 : -0.4);
      return [x1 + sx, y1 + sy, x2 + sx, y2 + sy];
    })),
    confidence: Float32Array.from(OBJECTS.map((o) => o[4])),
    classId: Int32Array.from(OBJECTS.map((o) => o[5])),
    trackId: Int32Array.from(OBJECTS.map((o) => o[6])),
  });
}

const ZONES: ZoneDrawing[] = [
  { id: 'parking', name: 'parking', polygon: [[628, 104], [646, 36], [768, 34], [768, 116]], count: 2, active: true },
];
const LINES: LineDrawing[] = [{ id: 'walkway', name: 'walkway', p1: [132, 252], p2: [146, 168], in: 12, out: 7 }];

describe('scene on a real frame', () => {
  it('draws every layer legibly and saves a sample PNG', async () => {
    const pixels = await ffmpeg(['-i', PLAZA, '-vf', 'select=eq(n\\,300)', '-vsync', '0', '-frames:v', '1',
      '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-']);
    expect(pixels.length).toBe(yuv420pSize({ width: W, height: H }));
    const original = Buffer.from(pixels);
    const labels = readFileSync(join(SHARED, 'models/coco_classes.txt'), 'utf8').split('\n').filter(Boolean);
    const scene = await createSceneRenderer({
      width: W,
      height: H,
      labels,
      style: { trail_length: 20, colors: { car: '#00C4FF' } },
    });
    // History: 19 earlier frames build the trails (drawn on a scratch frame), then the real one.
    const scratch = { pixels: Buffer.alloc(pixels.length), width: W, height: H };
    for (let back = 19; back >= 1; back--) scene.draw(scratch, { detections: at(back) });
    const frame = { pixels, width: W, height: H };
    scene.draw(frame, {
      detections: at(0),
      zones: ZONES,
      lines: LINES,
      highlighted: new Set([12]),
      header: { title: 'plaza-demo', ptsS: 30.0, fps: 10 },
    });
    await ffmpeg(['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${W}x${H}`, '-i', '-', '-y', OUT], pixels);

    const { data } = await sharp(OUT).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const rgbAt = (x: number, y: number): number[] => [...data.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)];
    // The header bar darkened the top-left corner; the line's end marker has a white core.
    expect(rgbAt(2, 2).every((v) => v < 90)).toBe(true);
    expect(rgbAt(132, 252).every((v) => v > 200)).toBe(true);
    // Far from every layer (the grass at the bottom left) the picture is untouched.
    for (const [x, y] of [[40, 420], [300, 500], [700, 560]] as const) {
      expect(pixels[y * W + x], `luma at ${x},${y}`).toBe(original[y * W + x]);
    }
  });
});
