// What one scene.draw costs per frame at 720p and 1080p with many tracked boxes (trails, tags, a zone, a
// counting line, the header, a few highlighted objects and rule texts). Times ONLY the drawing, on a
// grey frame (the cost does not depend on the picture). A measurement to run by hand on a quiet machine,
// never a test. Runs the compiled code: `npx tsc -p tsconfig.json` first.
//
//   node scripts/draw-cost.js [frames=400] [boxes=20,100]     (DRAW_STYLE='{"trails":false}': another drawing config)
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { makeDetections } from '../dist/detections.js';
import { createSceneRenderer } from '../dist/drawing/scene.js';
import { yuv420pSize } from '../dist/frame.js';

const [framesArg = '400', boxesArg = '20,100'] = process.argv.slice(2);
const frames = Number(framesArg);
const boxCounts = boxesArg.split(',').map(Number);
const labels = readFileSync('../shared/models/coco_classes.txt', 'utf8').split('\n').filter(Boolean);

/** n walkers on a grid, each drifting sideways with a little jitter; a few cars among them. */
function detectionsAt(n, W, H, t) {
  const xyxy = new Float32Array(4 * n);
  const conf = new Float32Array(n);
  const cls = new Int32Array(n);
  const ids = new Int32Array(n);
  const cols = Math.ceil(Math.sqrt(n * (W / H)));
  const bw = W / cols / 2.2;
  const bh = bw * 2.2;
  for (let i = 0; i < n; i++) {
    const gx = (i % cols) * (W / cols);
    const gy = Math.floor(i / cols) * (bh * 1.3) + H * 0.1;
    const x = ((gx + t * (1 + (i % 5))) % (W - bw)) + Math.sin(t / 3 + i) * 2;
    const y = (gy % (H - bh)) + Math.cos(t / 4 + i) * 2;
    xyxy.set([x, y, x + bw, y + bh], 4 * i);
    conf[i] = 0.3 + ((i * 37) % 70) / 100;
    cls[i] = i % 7 === 3 ? 2 : 0;
    ids[i] = i + 1;
  }
  return makeDetections({ xyxy, confidence: conf, classId: cls, trackId: ids });
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

console.log(`loadavg before: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
for (const [W, H] of [[1280, 720], [1920, 1080]]) {
  for (const n of boxCounts) {
    const scene = await createSceneRenderer({ width: W, height: H, labels, style: JSON.parse(process.env.DRAW_STYLE ?? '{}') });
    const frame = { pixels: Buffer.alloc(yuv420pSize({ width: W, height: H }), 110), width: W, height: H };
    const zones = [{ id: 'parked', name: 'parking', polygon: [[0.82 * W, 0], [W, 0], [W, 0.22 * H], [0.82 * W, 0.22 * H]], count: 3, active: true }];
    const lines = [{ id: 'walkway', name: 'walkway', p1: [0.5 * W, 0.15 * H], p2: [0.5 * W, 0.75 * H], in: 14, out: 12 }];
    const highlighted = new Set([3, 9, 17]);
    const times = [];
    for (let f = 0; f < frames + 50; f++) {
      const d = detectionsAt(n, W, H, f);
      // Rule texts: a crossing and a dwell every 20 frames (ignored by a renderer that has no such input).
      const events = f % 20 === 0
        ? [{ type: 'cross', track_id: 3, direction: 'in', extra: { count: 1 } }, { type: 'dwell', track_id: 9, extra: { seconds: 32 } }]
        : [];
      const t0 = performance.now();
      scene.draw(frame, { detections: d, zones, lines, highlighted, events, header: { title: 'bench', ptsS: f / 25, fps: 25 } });
      const dt = performance.now() - t0;
      if (f >= 50) times.push(dt);
    }
    times.sort((a, b) => a - b);
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    console.log(`${W}x${H} ${String(n).padStart(3)} boxes: mean ${mean.toFixed(3)} ms  p50 ${pct(times, 0.5).toFixed(3)}  p95 ${pct(times, 0.95).toFixed(3)}  max ${times[times.length - 1].toFixed(3)}`);
  }
}
console.log(`loadavg after: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
