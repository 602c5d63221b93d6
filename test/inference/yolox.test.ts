import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDetector, type Detector } from '../../src/inference/detector.js';
import { letterboxYuv420p } from '../../src/inference/letterbox.js';
import { loadModelSpec, projectRoot } from '../../src/inference/modelSpec.js';
import { iou } from '../../src/inference/nms.js';
import { releaseAllModelSessions } from '../../src/inference/modelSession.js';

/*
 * Reference persons from an independent OpenCV pipeline (cv2.VideoCapture → cv2.resize + numpy padding →
 * cv2.dnn → per-class cv2.dnn.NMSBoxes; confidence 0.3, IoU 0.45), produced with cv2 4.6 / ffmpeg 5.1 on
 * x86-64 by:
 *     /usr/bin/python3 scripts/opencv-reference.py --frames 0,300,600
 * inputSha256 is the sha256 of the network input it built (float32 NCHW, little-endian).
 *
 * What we saw: our input tensor is bit-identical to OpenCV's (same H.264 decode, swscale's fixed-point
 * yuv→bgr24 and cv2.resize's 11-bit bilinear reproduced), so the only differences left are onnxruntime vs
 * cv2.dnn arithmetic: at most 5e-5 in score and 2e-4 px in box, below the 4-decimal rounding here. With
 * textbook-rounded BT.601 instead (about 1 level brighter) scores moved by up to 0.0045 and IoU fell to
 * 0.982; the bounds below would still pass such a conversion, and catch a wrong channel order, stride,
 * ratio or NMS, which move boxes by pixels and scores by tenths.
 */
const REFERENCE: Record<number, { inputSha256: string; persons: { box: number[]; score: number }[] }> = {
  0: {
    inputSha256: '84355eb674f5cba92b492344fad53751f3aa495a85efe561d78e8eefc0a689d1',
    persons: [
      { box: [643.3, 239.9, 683.7, 322.9], score: 0.8517 },
      { box: [252.3, 220.1, 283.3, 307.7], score: 0.814 },
      { box: [502.7, 157.3, 531.3, 231.9], score: 0.7534 },
      { box: [30.6, 110.4, 48.1, 143.0], score: 0.5337 },
    ],
  },
  300: {
    inputSha256: 'f73f67b0a472ad92815482da88752a4171d4ebd7624e388e444049faa8327a6d',
    persons: [
      { box: [580.8, 159.6, 612.7, 234.5], score: 0.843 },
      { box: [241.3, 156.3, 263.9, 221.5], score: 0.7676 },
      { box: [187.6, 158.5, 216.5, 234.8], score: 0.7662 },
      { box: [315.2, 212.6, 346.3, 294.7], score: 0.7515 },
      { box: [616.8, 162.7, 643.5, 230.3], score: 0.7486 },
      { box: [295.9, 157.9, 327.1, 233.0], score: 0.7249 },
      { box: [31.0, 110.4, 48.1, 141.7], score: 0.5491 },
      { box: [160.3, 182.7, 177.7, 209.5], score: 0.3414 },
    ],
  },
  600: {
    inputSha256: '1206587b9ff2b22914c21e1bb16956445abf64a76b644d430190315d903b41d5',
    persons: [
      { box: [566.1, 196.6, 598.4, 287.5], score: 0.8463 },
      { box: [282.6, 431.7, 340.4, 576.0], score: 0.8335 },
      { box: [640.6, 304.6, 673.3, 411.2], score: 0.8277 },
      { box: [668.5, 208.9, 705.5, 297.3], score: 0.8027 },
      { box: [451.5, 299.2, 496.9, 420.1], score: 0.779 },
      { box: [186.6, 145.5, 212.0, 212.4], score: 0.7537 },
      { box: [30.7, 109.7, 48.5, 144.0], score: 0.598 },
    ],
  },
};

const VIDEO = join(projectRoot, '../shared/media/plaza-pedestrians.mp4');
const [W, H] = [768, 576];
const CONFIDENCE = 0.3;
/** A reference person near the threshold may fall just under it on our side, and vice versa. */
const MARGIN = 0.05;
const MIN_IOU = 0.98;
const MAX_SCORE_DIFF = 0.01;

/** Frame n as yuv420p, exactly as our decoder stage would get it from ffmpeg. */
function decodeFrame(n: number): Buffer {
  return execFileSync(
    'ffmpeg',
    ['-v', 'error', '-i', VIDEO, '-vf', `select=eq(n\\,${n})`, '-vsync', '0', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-'],
    { maxBuffer: 4 * W * H },
  );
}

const frames = new Map<number, Buffer>();
let persons: Detector;
let everything: Detector;

beforeAll(async () => {
  for (const n of Object.keys(REFERENCE).map(Number)) frames.set(n, decodeFrame(n));
  const spec = await loadModelSpec(join(projectRoot, 'models/yolox-nano.json'));
  persons = await createDetector({ spec, confidence: CONFIDENCE - MARGIN, classes: ['person'] });
  everything = await createDetector({ spec, confidence: CONFIDENCE - MARGIN });
});

afterAll(() => releaseAllModelSessions());

describe.each(Object.entries(REFERENCE).map(([n, ref]) => [Number(n), ref] as const))('frame %i', (n, ref) => {
  const frame = () => ({ pixels: frames.get(n)!, width: W, height: H });

  it('builds the same network input as OpenCV, bit for bit', () => {
    const input = new Float32Array(3 * 416 * 416);
    letterboxYuv420p(frame(), input, 416, 416);
    expect(createHash('sha256').update(new Uint8Array(input.buffer)).digest('hex')).toBe(ref.inputSha256);
  });

  it('finds every reference person, and no others above the threshold', async () => {
    const d = await persons.detect(frame());
    expect(Array.from(d.classId).every((c) => c === 0)).toBe(true);
    const ours = Array.from({ length: d.count }, (_, i) => ({ box: Array.from(d.xyxy.subarray(4 * i, 4 * i + 4)), score: d.confidence[i]! }));
    const pairIou = (a: number[], b: number[]) => iou([...a, ...b], 0, 1);

    for (const r of ref.persons) {
      const best = ours.reduce((m, o) => (pairIou(o.box, r.box) > pairIou(m.box, r.box) ? o : m), ours[0]!);
      expect(pairIou(best.box, r.box), `IoU for reference ${r.box}`).toBeGreaterThanOrEqual(MIN_IOU);
      expect(Math.abs(best.score - r.score), `score for reference ${r.box}`).toBeLessThanOrEqual(MAX_SCORE_DIFF);
    }
    for (const o of ours.filter((x) => x.score > CONFIDENCE + MARGIN)) {
      const matched = ref.persons.some((r) => pairIou(o.box, r.box) >= MIN_IOU);
      expect(matched, `extra person ${o.box.map((v) => v.toFixed(1))} score ${o.score.toFixed(3)}`).toBe(true);
    }
  });

  it('the class filter keeps exactly the persons of an unfiltered run', async () => {
    const [p, all] = [await persons.detect(frame()), await everything.detect(frame())];
    const idx = Array.from(all.classId).flatMap((c, i) => (c === 0 ? [i] : []));
    expect(p.count).toBe(idx.length);
    idx.forEach((i, k) => {
      expect(p.confidence[k]).toBe(all.confidence[i]);
      expect(Array.from(p.xyxy.subarray(4 * k, 4 * k + 4))).toEqual(Array.from(all.xyxy.subarray(4 * i, 4 * i + 4)));
    });
  });
});

describe('class groups on the real model', () => {
  it('the parked van, seen as car and truck at once, becomes one vehicle box', async () => {
    const spec = await loadModelSpec(join(projectRoot, 'models/yolox-nano.json'));
    const grouped = await createDetector({ spec, confidence: CONFIDENCE, classGroups: { vehicle: ['car', 'truck', 'bus'] } });
    const frame = { pixels: frames.get(0)!, width: W, height: H };
    const [plain, merged] = [await everything.detect(frame), await grouped.detect(frame)];
    const VEHICLE = 80; // appended after the 80 COCO labels
    /** Vehicle boxes in the parking zone (top right) above the threshold. */
    const parked = (d: typeof plain, ids: number[]) =>
      Array.from({ length: d.count }, (_, i) => i).filter((i) => ids.includes(d.classId[i]!) && d.xyxy[4 * i]! > 0.75 * W && d.xyxy[4 * i + 1]! < 0.25 * H && d.confidence[i]! > CONFIDENCE);
    // Without groups, one vehicle is two boxes of different classes (car 2 and truck 7) overlapping.
    const before = parked(plain, [2, 5, 7]);
    expect(new Set(before.map((i) => plain.classId[i])).size).toBeGreaterThan(1);
    const after = parked(merged, [VEHICLE]);
    expect(after.length).toBeGreaterThan(0);
    expect(after.length).toBeLessThan(before.length);
    expect(parked(merged, [2, 5, 7])).toEqual([]);
    // No two vehicle boxes overlap above the NMS threshold any more.
    for (const i of after) for (const j of after) if (i < j) expect(iou([...merged.xyxy.subarray(4 * i, 4 * i + 4), ...merged.xyxy.subarray(4 * j, 4 * j + 4)], 0, 1)).toBeLessThanOrEqual(0.45);
  });
});
