/**
 * The full scene on a real decoded frame (plaza, frame 300) at the clip's 768x576 and upscaled to 720p
 * and 1080p: a zone over the parked vehicles (the white van detected as both car and
 * truck), a counting line across the walkway, tracked boxes with trails, one highlighted with its rule
 * text, the header. The PNGs are written to $SIE_ARTIFACTS/drawing/scene-WxH.png (default under the
 * system's temp dir) for a human look; the checks below are what a look at them showed must hold.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { makeDetections, type Detections } from '../../src/detections.js';
import { DEFAULT_HIGHLIGHT } from '../../src/drawing/boxAnnotator.js';
import { createSceneRenderer } from '../../src/drawing/scene.js';
import type { LineDrawing } from '../../src/drawing/lineAnnotator.js';
import { hexToRgb } from '../../src/drawing/yuv.js';
import type { ZoneDrawing } from '../../src/drawing/zoneAnnotator.js';
import { yuv420pSize } from '../../src/frame.js';
import { PLAZA, SHARED, runFfmpeg } from '../helpers/media.js';

const ARTIFACTS = join(process.env.SIE_ARTIFACTS ?? join(tmpdir(), 'sie-artifacts'), 'drawing');

const ffmpeg = runFfmpeg;

/** Frame-300 boxes at 768x576 [x1, y1, x2, y2, conf, class, track, dx per frame (for the synthetic history)]. */
const OBJECTS: [number, number, number, number, number, number, number, number][] = [
  [186, 158, 220, 235, 0.91, 0, 3, 2.5],
  [243, 157, 271, 221, 0.84, 0, 4, 2],
  [297, 157, 325, 231, 0.78, 0, 5, -1.5],
  [313, 209, 346, 297, 0.93, 0, 12, 1.8],
  [581, 157, 613, 237, 0.88, 0, 17, -2.2],
  [617, 159, 645, 235, 0.67, 0, 18, -2],
  [651, 43, 725, 101, 0.66, 2, 21, 0],
  [652, 44, 724, 100, 0.75, 7, 23, 0], // the same van, as a truck
  [733, 51, 768, 93, 0.58, 2, 22, 0],
];

/** The objects as they were `back` frames ago, in a W x H frame: walkers slide along x and drift in y. */
function at(back: number, W: number, H: number): Detections {
  const sx = W / 768;
  const sy = H / 576;
  return makeDetections({
    xyxy: Float32Array.from(OBJECTS.flatMap(([x1, y1, x2, y2, , , t, dx]) => {
      const ox = -dx * back;
      const oy = dx === 0 ? 0 : Math.sin((back + t) / 3) * 3 + back * (t % 2 === 0 ? 0.6 : -0.4);
      return [(x1 + ox) * sx, (y1 + oy) * sy, (x2 + ox) * sx, (y2 + oy) * sy];
    })),
    confidence: Float32Array.from(OBJECTS.map((o) => o[4])),
    classId: Int32Array.from(OBJECTS.map((o) => o[5])),
    trackId: Int32Array.from(OBJECTS.map((o) => o[6])),
  });
}

const zonesAt = (W: number, H: number): ZoneDrawing[] => [
  { id: 'parking', name: 'parking', polygon: [[0.82 * W, 0], [W, 0], [W, 0.22 * H], [0.82 * W, 0.22 * H]], count: 3, active: true },
];
const linesAt = (W: number, H: number): LineDrawing[] => [
  { id: 'walkway', name: 'walkway', p1: [0.5 * W, 0.15 * H], p2: [0.5 * W, 0.75 * H], in: 12, out: 7 },
];

describe('scene on a real frame', () => {
  const labels = readFileSync(join(SHARED, 'models/coco_classes.txt'), 'utf8').split('\n').filter(Boolean);
  mkdirSync(ARTIFACTS, { recursive: true });

  it.each([[768, 576], [1280, 720], [1920, 1080]])('%ix%i: every layer legible, no tag over another or out of the frame', async (W, H) => {
    const pixels = await ffmpeg(['-i', PLAZA, '-vf', `select=eq(n\\,300),scale=${W}:${H}`, '-vsync', '0', '-frames:v', '1',
      '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-']);
    expect(pixels.length).toBe(yuv420pSize({ width: W, height: H }));
    const original = Buffer.from(pixels);
    const scene = await createSceneRenderer({ width: W, height: H, labels, style: { trail_length: 20, colors: { car: '#00C4FF' } } });
    // History: 19 earlier frames build the trails (drawn on a scratch frame), the crossing fires on the
    // 18th (so its text is still up 0.1 s later), then the real frame.
    const scratch = { pixels: Buffer.alloc(pixels.length), width: W, height: H };
    for (let back = 19; back >= 1; back--) {
      const events = back === 1 ? [{ type: 'cross' as const, track_id: 12, rule_id: 'walkway', direction: 'in' as const, extra: { count: 12 } }] : undefined;
      scene.draw(scratch, { detections: at(back, W, H), events, ptsS: 30 - back / 10 });
    }
    const frame = { pixels, width: W, height: H };
    scene.draw(frame, {
      detections: at(0, W, H),
      zones: zonesAt(W, H),
      lines: linesAt(W, H),
      highlighted: new Set([12]),
      events: [{ type: 'dwell', track_id: 21, rule_id: 'parking', extra: { seconds: 32 } }],
      ptsS: 30,
      header: { title: 'plaza-demo', ptsS: 30.0, fps: 10 },
    });
    const png = join(ARTIFACTS, `scene-${W}x${H}.png`);
    await ffmpeg(['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${W}x${H}`, '-i', '-', '-y', png], pixels);

    // Tags: header bar, IN, OUT, line name, zone, two rule texts, nine box tags; disjoint, inside.
    const r = new Int32Array(4);
    const rects = Array.from({ length: scene.tags.size }, (_, i) => [...scene.tags.rect(i, r)] as [number, number, number, number]);
    expect(rects.length).toBe(1 + 3 + 1 + 2 + OBJECTS.length);
    for (const [i, [x, y, w, h]] of rects.entries()) {
      expect(x >= 0 && y >= 0 && x + w <= W && y + h <= H, `tag ${i} ${[x, y, w, h]} inside`).toBe(true);
      for (let j = 0; j < i; j++) {
        const [x2, y2, w2, h2] = rects[j]!;
        const apart = x + w <= x2 || x2 + w2 <= x || y + h <= y2 || y2 + h2 <= y;
        expect(apart, `tag ${i} ${[x, y, w, h]} clear of tag ${j} ${[x2, y2, w2, h2]}`).toBe(true);
      }
    }

    const { data } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const rgbAt = (x: number, y: number): number[] => [...data.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)];
    // The header bar darkened the top-left corner; the line is white (below the walkers' tags).
    expect(rgbAt(2, 2).every((v) => v < 90)).toBe(true);
    expect(rgbAt(Math.round(0.5 * W) - 1, Math.round(0.6 * H)).every((v) => v > 200), 'white line').toBe(true);
    // The rule texts ("IN" under track 12, "DWELL 32 s" by the van): pixels in the highlight colour.
    const red = hexToRgb(DEFAULT_HIGHLIGHT);
    let redPixels = 0;
    for (let i = 0; i < W * H; i++) {
      if (Math.abs(data[3 * i]! - red.r) < 30 && data[3 * i + 1]! < 40 && data[3 * i + 2]! < 40) redPixels++;
    }
    expect(redPixels, 'highlight-coloured pixels').toBeGreaterThan(0.002 * W * H);
    // Far from every layer (the grass at the bottom left) the picture is untouched.
    for (const [fx, fy] of [[40 / 768, 420 / 576], [300 / 768, 500 / 576], [700 / 768, 560 / 576]] as const) {
      const x = Math.round(fx * W);
      const y = Math.round(fy * H);
      expect(pixels[y * W + x], `luma at ${x},${y}`).toBe(original[y * W + x]);
    }
  });
});
