import type { PipelineFigures } from './fileRuns.js';
import type { LatencySummary } from './latency.js';
import { HOLD_FPS_SHARE, HOLD_MAX_DROPPED_PCT } from './liveCapacity.js';
import type { ThroughputResult } from './throughput.js';
import { formatLoad } from './loadAverage.js';

/** Columns padded to their widest cell; the first column left-aligned, the others right-aligned. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd()).join('\n');
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const nth = (n: number) => (n === 1 ? 'every frame' : `every ${n}rd frame`);

function figuresRow(clip: string, way: string, f: PipelineFigures): string[] {
  return [clip, way, f1(f.fps), f1(f.cpuMsPerFrame), f2(f.ratioToLimit), f.peakRssMb > 0 ? f1(f.peakRssMb) : '-'];
}

function latencyRows(what: string, s: LatencySummary): string[][] {
  const q = (x: { p50: number; p90: number; p99: number }) => `${f1(x.p50)} / ${f1(x.p90)} / ${f1(x.p99)}`;
  return [
    [what, 'end to end', q(s.endToEnd), '(total)'],
    ...Object.entries(s.stages).map(([stage, v]) => ['', stage, q(v.wait), q(v.service)]),
  ];
}

/** The human-readable report of a throughput bench: what `sie bench` prints without --json. */
export function formatThroughput(r: ThroughputResult): string {
  const out: string[] = [];
  out.push(`sie bench: ${r.machine.cores} cores (${r.machine.cpu}), node ${r.machine.node}${r.quick ? ', --quick (short clips: figures are rough)' : ''}`);
  out.push(`load average ${formatLoad(r.machine.loadAtStart)} at the start, ${formatLoad(r.machine.loadAtEnd)} at the end`);
  out.push('');
  const rows: string[][] = [['clip', 'way', 'fps', 'CPU ms/frame', '× limit', 'peak RSS MB']];
  for (const c of r.clips) {
    const l = c.limit;
    rows.push([c.clip.label, `limit: decode ${f1(l.decodeMs)} + inference ${f1(l.inferenceMs)} + encode ${f1(l.encodeMs)} ms`, f1(l.limitFps), f1(l.sumMs), '1.00', '-']);
    rows.push(figuresRow('', 'naive loop', c.naive));
    rows.push(figuresRow('', 'sie replay (--out)', c.replay));
    if (c.live) rows.push(figuresRow('', `live, ${c.live.streams} stream(s) at capacity`, c.live));
    rows.push(['', `(letterbox ${f1(l.preprocessMs)} ms/frame, not in the limit)`, '', '', '', '']);
  }
  if (r.clips.length > 0) out.push(table(rows), '');

  if (r.capacity.length > 0) {
    out.push(`live capacity of one engine (a stream holds: ≥ ${HOLD_FPS_SHARE * 100}% of its rate in new frames, < ${HOLD_MAX_DROPPED_PCT}% dropped)`);
    const cap: string[][] = [['clip', 'detection', 'streams held', 'slowest fps', 'most dropped %', 'CPU ms/frame', 'RSS MB', 'load']];
    for (const t of r.capacity) {
      const s = t.steps[Math.max(0, t.capacity - 1)];
      cap.push([
        t.clip,
        nth(t.everyNthFrame),
        `${t.capacity}${t.reachedMax ? '+' : ''}`,
        s ? f1(Math.min(...s.perStream.map((p) => p.fps))) : '-',
        s ? f1(Math.max(...s.perStream.map((p) => p.droppedPct))) : '-',
        s ? f1(s.cpuMsPerFrame) : '-',
        s ? f1(s.rssMb) : '-',
        s ? formatLoad(s.load) : '-',
      ]);
    }
    out.push(table(cap), '');
  }

  const lat: string[][] = [['latency, arrival → RTSP mount (ms)', 'stage', 'wait p50 / p90 / p99', 'service p50 / p90 / p99']];
  if (r.latency.oneStream) lat.push(...latencyRows(`one stream ${r.latency.oneStream.clip}`, r.latency.oneStream.summary));
  for (const a of r.latency.atCapacity) lat.push(...latencyRows(`${a.clip} ${nth(a.everyNthFrame)}, ${a.streams} streams`, a.summary));
  if (lat.length > 1) out.push(table(lat), '');

  for (const m of r.rssPerStreamMb) out.push(`RSS per extra stream, ${m.clip} ${nth(m.everyNthFrame)}: ${f1(m.mb)} MB`);
  if (r.rssPerStreamMb.length > 0) out.push('');

  for (const t of r.targets) out.push(`${t.met ? 'PASS' : 'MISS'}  ${t.target}: ${t.measured}`);
  return `${out.join('\n')}\n`;
}
