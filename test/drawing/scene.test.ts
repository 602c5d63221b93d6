import { describe, expect, it } from 'vitest';
import { makeDetections, type Detections } from '../../src/detections.js';
import { boxSizes } from '../../src/drawing/boxAnnotator.js';
import type { LineDrawing } from '../../src/drawing/lineAnnotator.js';
import { Palette } from '../../src/drawing/palette.js';
import { classPalette, createSceneRenderer } from '../../src/drawing/scene.js';
import { makeClassColor } from '../../src/drawing/palette.js';
import { readYuv } from '../../src/drawing/yuv.js';
import type { ZoneDrawing } from '../../src/drawing/zoneAnnotator.js';
import { ConfigInvalidError } from '../../src/errors.js';
import { changedLuma, copyFrame, makeFrame } from './helpers.js';

const LABELS = ['person', 'bicycle', 'car'];

function people(n: number, step: number, t = 0, w = 1920): Detections {
  return makeDetections({
    xyxy: Float32Array.from({ length: 4 * n }, (_, k) => {
      const i = k >> 2;
      const x = 60 + ((i * step + t * 3) % (w - 200));
      const y = 300 + (i % 3) * 150;
      return [x, y, x + 80, y + 200][k & 3]!;
    }),
    confidence: new Float32Array(n).fill(0.8),
    classId: Int32Array.from({ length: n }, (_, i) => (i % 4 === 3 ? 2 : 0)),
    trackId: Int32Array.from({ length: n }, (_, i) => i + 1),
  });
}

describe('scene renderer', () => {
  it('rejects class names the model does not have, and bad options, as config errors', async () => {
    const make = (style: object) => createSceneRenderer({ width: 64, height: 48, labels: LABELS, style });
    await expect(make({ blur_classes: ['persn'] })).rejects.toThrow(ConfigInvalidError);
    await expect(make({ blur_classes: ['persn'] })).rejects.toThrow(/blur_classes: 'persn'/);
    await expect(make({ colors: { truck: '#112233' } })).rejects.toThrow(/colors: 'truck'/);
    await expect(make({ colors: { car: 'red' } })).rejects.toThrow(ConfigInvalidError);
    await expect(make({ trail_length: 1 })).rejects.toThrow(/trail_length/);
    await expect(make({ line_color: 'white' })).rejects.toThrow(/line_color.*#rrggbb/);
    await expect(make({ event_text_seconds: 0 })).rejects.toThrow(/event_text_seconds/);
  });

  it('applies colour overrides per class name', () => {
    const hexes = classPalette(LABELS, { car: '#112233' });
    expect(hexes).toHaveLength(3);
    expect(hexes[2]).toBe('#112233');
    expect(hexes[0]).toBe(new Palette().forClass(0).hex);
  });

  it('pixelates first, so box outlines and tags drawn over a masked person stay crisp', async () => {
    const scene = await createSceneRenderer({ width: 200, height: 160, labels: LABELS, style: { blur_classes: ['person'], thickness: 2, header: false } });
    const f = makeFrame(200, 160);
    for (let i = 0; i < 200 * 160; i++) f.pixels[i] = 40 + ((i * 37) % 150);
    const before = copyFrame(f);
    scene.draw(f, { detections: makeDetections({ xyxy: Float32Array.of(40, 60, 100, 150), confidence: Float32Array.of(0.9), classId: Int32Array.of(0) }) });
    expect(readYuv(f, 40, 100)).toEqual(new Palette().forClass(0).fill); // outline intact
    expect(readYuv(f, 98, 100)).toEqual(new Palette().forClass(0).fill);
    expect(f.pixels[100 * 200 + 60]).not.toBe(before.pixels[100 * 200 + 60]); // inside pixelated
    expect(f.pixels[100 * 200 + 150]).toBe(before.pixels[100 * 200 + 150]); // outside untouched
  });

  it('honours the layer switches', async () => {
    const zones: ZoneDrawing[] = [{ id: 'z', name: 'zone', polygon: [[10, 10], [90, 10], [90, 70], [10, 70]], count: 1 }];
    const lines: LineDrawing[] = [{ id: 'l', name: 'line', p1: [120, 20], p2: [180, 140], in: 1, out: 2 }];
    const input = { zones, lines, header: { title: 't', ptsS: 1 }, detections: people(1, 0, 0, 400) };
    const all = await createSceneRenderer({ width: 200, height: 160, labels: LABELS });
    const none = await createSceneRenderer({
      width: 200,
      height: 160,
      labels: LABELS,
      style: { boxes: false, zones: false, lines: false, trails: false, header: false },
    });
    const f = makeFrame(200, 160);
    all.draw(f, input);
    expect(changedLuma(makeFrame(200, 160), f).size).toBeGreaterThan(1000);
    const g = makeFrame(200, 160);
    none.draw(g, input);
    expect(changedLuma(makeFrame(200, 160), g).size).toBe(0);
    expect(none.style.trail_length).toBe(30);
  });

  it('zone and line tags take their places before box tags: a box tag that would cover one goes elsewhere', async () => {
    const scene = await createSceneRenderer({ width: 320, height: 240, labels: LABELS, style: { trails: false } });
    const zone: ZoneDrawing = { id: 'z', name: 'zone', polygon: [[100, 120], [200, 120], [200, 200], [100, 200]], count: 4, color: '#00FF00' };
    // A car box whose tag would land exactly where the zone's tag goes (just above y = 120).
    const car = makeDetections({ xyxy: Float32Array.of(60, 120, 240, 220), confidence: Float32Array.of(0.5), classId: Int32Array.of(2) });
    const f = makeFrame(320, 240);
    scene.draw(f, { detections: car, zones: [zone] });
    const green = makeClassColor('#00FF00').fill;
    const h = boxSizes(320, 240).tagHeight;
    // The zone's tag is centred on its first top vertex (100, 120), above it, whole.
    expect(readYuv(f, 100, 120 - h + 1)).toEqual(green);
    // The car's tag went to the next free spot: the car's own top row (inside its box), not over the zone's.
    const r = new Int32Array(4);
    expect(scene.tags.size).toBe(2);
    const [zx, zy, zw, zh] = [...scene.tags.rect(0, r)] as [number, number, number, number];
    const [cx, cy, cw, ch] = [...scene.tags.rect(1, r)] as [number, number, number, number];
    expect(zy).toBe(120 - h);
    expect(cx + cw <= zx || zx + zw <= cx || cy + ch <= zy || zy + zh <= cy).toBe(true);
  });

  it('a rule event shows its text by the object for event_text_seconds of source time; event_text: false shows none', async () => {
    const d = makeDetections({ xyxy: Float32Array.of(60, 40, 110, 120), confidence: Float32Array.of(0.8), classId: Int32Array.of(0), trackId: Int32Array.of(1) });
    const events = [{ type: 'cross' as const, track_id: 1, rule_id: 'l', direction: 'in' as const }];
    const on = await createSceneRenderer({ width: 200, height: 160, labels: LABELS, style: { event_text_seconds: 2, trails: false, header: false } });
    const off = await createSceneRenderer({ width: 200, height: 160, labels: LABELS, style: { event_text: false, trails: false, header: false } });
    const plain = makeFrame(200, 160);
    off.draw(plain, { detections: d, events, ptsS: 1 });
    expect(off.tags.size).toBe(1); // the box tag only
    const f = makeFrame(200, 160);
    on.draw(f, { detections: d, events, ptsS: 1 });
    expect(on.tags.size).toBe(2);
    expect(changedLuma(plain, f).size).toBeGreaterThan(50);
    on.draw(makeFrame(200, 160), { detections: d, ptsS: 2.9 });
    expect(on.tags.size).toBe(2); // still up after 1.9 s
    on.draw(makeFrame(200, 160), { detections: d, ptsS: 3 });
    expect(on.tags.size).toBe(1); // gone at 2 s
  });

  it('a full scene on odd sizes with everything hanging off the frame stays in bounds', async () => {
    for (const [w, h] of [[97, 61], [3, 3]] as const) {
      const scene = await createSceneRenderer({ width: w, height: h, labels: LABELS, style: { blur_classes: ['car'] } });
      const f = makeFrame(w, h);
      for (let t = 0; t < 5; t++) {
        scene.draw(f, {
          detections: people(6, 37, t, w),
          zones: [{ id: 'a', name: 'a', polygon: [[-30, -30], [w + 30, 5], [w / 2, h + 40]], count: t, active: t % 2 === 0 }],
          lines: [{ id: 'l', name: 'l', p1: [-10, h + 10], p2: [w + 10, -10], in: t, out: 0 }],
          highlighted: new Set([1, 2]),
          header: { title: 'odd', ptsS: t, fps: 5 },
        });
      }
      expect(f.guardsIntact(), `${w}x${h}`).toBe(true);
    }
  });

  it('measures the full scene at 1080p (printed, not asserted: benchmarks own speed)', async () => {
    const W = 1920;
    const H = 1080;
    const scene = await createSceneRenderer({ width: W, height: H, labels: LABELS });
    const zones: ZoneDrawing[] = [
      { id: 'parking', name: 'parking', polygon: [[1300, 80], [1900, 60], [1910, 420], [1250, 380]], count: 3, active: true },
      { id: 'door', name: 'door', polygon: [[100, 700], [500, 650], [620, 1000], [300, 1060], [150, 900]], count: 1 },
    ];
    const lines: LineDrawing[] = [{ id: 'walk', name: 'walkway', p1: [900, 1000], p2: [1000, 300], in: 12, out: 7 }];
    const f = makeFrame(W, H);
    const highlighted = new Set([3]);
    // Inputs built before timing: only draw() is measured.
    const inputs = Array.from({ length: 64 }, (_, t) => ({
      detections: people(10, 170, t),
      zones,
      lines,
      highlighted,
      header: { title: 'bench', ptsS: t / 25, fps: 25 },
    }));
    const times: number[] = [];
    for (let t = 0; t < 630; t++) {
      const t0 = performance.now();
      scene.draw(f, inputs[t % inputs.length]!);
      if (t >= 30) times.push(performance.now() - t0); // after the trails are full
    }
    times.sort((a, b) => a - b);
    const q = (p: number): string => times[Math.floor(p * (times.length - 1))]!.toFixed(2);
    console.log(`scene 1080p (10 boxes, 2 zones, 1 line, trails of 30, header): median ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${q(1)} ms`);
    expect(f.guardsIntact()).toBe(true);
  });
});
