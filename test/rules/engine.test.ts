import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { rulesConfigSchema, type RuleConfig } from '../../src/config/rules.js';
import { createRulesEngine, type DetectionFilters, type RulesEngineOptions, type RuleEvent } from '../../src/rules/index.js';
import { mockDetections } from '../tracking/mockDetections.js';
import { H, LABELS, W, objectBox } from './helpers.js';

const START_MS = Date.UTC(2026, 0, 1, 12, 0, 0);
const ZONE = [[0.2, 0.2], [0.6, 0.2], [0.6, 0.6], [0.2, 0.6]];

function rules(list: unknown[]): RuleConfig[] {
  return rulesConfigSchema.parse(list);
}

function engine(list: unknown[], extra: Partial<RulesEngineOptions> = {}) {
  return createRulesEngine({ runId: 'run1', clientId: 'acme', rules: rules(list), labels: LABELS, width: W, height: H, startedAtMs: START_MS, ...extra });
}

/** Untracked detections from bottom-centre positions (fractions of the frame). */
function dets(objects: Array<{ x: number; y: number; cls?: number; conf?: number; w?: number; h?: number }>) {
  return mockDetections(objects.map((o) => ({ ...objectBox({ track: -1, ...o }), track: -1 })));
}

/** Runs frames (detections or undefined = skipped) at 10 fps from t0; returns every event and the outputs. */
function run(e: ReturnType<typeof engine>, frames: Array<ReturnType<typeof dets> | undefined>, t0 = 0, firstFrameId = 0) {
  const events: RuleEvent[] = [];
  const outputs = frames.map((d, k) => {
    const out = e.process({ frameId: firstFrameId + k, ptsS: t0 + k / 10, detections: d });
    events.push(...out.events);
    return out;
  });
  return { events, outputs };
}

/** One person walking straight down at x = 0.5 from y0 by dy per frame. */
const walkDown = (n: number, y0 = 0.3, dy = 0.05) => Array.from({ length: n }, (_, k) => dets([{ x: 0.5, y: y0 + k * dy }]));

const LINE = { id: 'gate', type: 'line_crossing', line: [[0.2, 0.5], [0.8, 0.5]] };

describe('rules engine', () => {
  it('emits a complete, deterministic event: ids, frame, pts, time from the run start, normalised box', () => {
    // Past the line on frame 1005; the new side has held cross_after_s (0.3 s) on frame 1008, which emits it.
    const { events, outputs } = run(engine([LINE]), walkDown(9), 100, 1000);
    expect(events).toEqual([
      {
        id: 'run1:gate:1:0',
        run_id: 'run1',
        client_id: 'acme',
        rule_id: 'gate',
        type: 'cross',
        track_id: 1,
        class: 'person',
        direction: 'in',
        frame_id: 1005,
        pts: 100.5,
        time: '2026-01-01T12:00:00.500Z',
        box: [0.48, 0.47, 0.52, 0.55],
        extra: { count: 1, confirmed_frame_id: 1008 },
      },
    ]);
    expect(outputs[8]!.events).toHaveLength(1);
    expect(outputs[8]!.triggered).toEqual(new Set([1]));
    expect(outputs.slice(0, 8).map((o) => o.triggered.size)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(outputs[8]!.detections.trackId)).toEqual([1]);
  });

  it('startPtsS, when given, anchors the event time', () => {
    const { events } = run(engine([LINE], { startPtsS: 90 }), walkDown(9), 100);
    expect(events[0]!.time).toBe('2026-01-01T12:00:10.500Z');
  });

  it('the same input gives the same events (twice, from two engines)', () => {
    const script = Array.from({ length: 60 }, (_, k) =>
      k % 4 === 3
        ? undefined
        : dets([
            { x: 0.1 + k * 0.012, y: 0.4 },
            { x: 0.5, y: 0.2 + k * 0.01, cls: 1 },
          ]),
    );
    const list = [LINE, { id: 'z', type: 'zone_presence', zone: ZONE }, { id: 'd', type: 'zone_dwell', zone: ZONE, min_seconds: 1 }, { id: 'a', type: 'zone_absence', zone: ZONE, min_seconds: 0.5, classes: ['car'] }];
    const a = run(engine(list), script).events;
    const b = run(engine(list), script).events;
    expect(a.length).toBeGreaterThan(4);
    expect(b).toEqual(a);
    expect(new Set(a.map((e) => e.id)).size).toBe(a.length);
  });

  it('untracked detections never trigger rules', () => {
    const e = engine([LINE, { id: 'z', type: 'zone_presence', zone: ZONE }], { tracker: { minimum_consecutive_frames: 30 } });
    const { events, outputs } = run(e, walkDown(9));
    expect(events).toEqual([]);
    expect(outputs.every((o) => Array.from(o.detections.trackId).every((id) => id === -1))).toBe(true);
  });

  it('frames without detection carry predicted tracks and still advance time', () => {
    // Detection on every 3rd frame only; the person stands in the zone.
    const script = Array.from({ length: 16 }, (_, k) => (k % 3 === 0 ? dets([{ x: 0.4, y: 0.4 }]) : undefined));
    const { events, outputs } = run(engine([{ id: 'd', type: 'zone_dwell', zone: ZONE, min_seconds: 1 }]), script);
    expect(events.map((e) => [e.frame_id, e.type, e.track_id])).toEqual([[10, 'dwell', 1]]);
    expect(outputs[10]!.events[0]!.extra).toEqual({ seconds: 1 });
    expect(Array.from(outputs[1]!.detections.trackId)).toEqual([1]);
    expect(outputs[1]!.detections.xyxy[0]).toBeCloseTo(380, 0);
  });

  it('a track that expires inside a zone leaves it, dated at its last sighting, and its state goes', () => {
    const e = engine([{ id: 'z', type: 'zone_presence', zone: ZONE }, LINE]);
    // Seen inside on frames 0-3 (entry confirmed on 3, after 0.3 s), then never again: the tracker drops it after
    // its lost_track_buffer_s (1 s).
    const script = [...Array.from({ length: 4 }, () => dets([{ x: 0.4, y: 0.4 }])), ...Array.from({ length: 12 }, () => dets([]))];
    const { events, outputs } = run(e, script);
    expect(events.map((ev) => [ev.frame_id, ev.type, ev.track_id, ev.extra.reason, ev.extra.seconds])).toEqual([
      [0, 'enter', 1, undefined, undefined],
      [3, 'leave', 1, 'expired', 0.3],
    ]);
    expect(outputs.findIndex((o) => o.events.length > 0)).toBe(3);
    expect(outputs.findLastIndex((o) => o.events.length > 0)).toBe(14);
    expect(e.stateSize()).toEqual({ tracks: 0, retired: 0, rules: { z: 0, gate: 0 } });
  });

  it.each([
    { what: 'min_area drops small boxes', filters: { min_area: 0.01 }, kept: [1] },
    { what: 'ignore_zones drop by bottom centre', filters: { ignore_zones: [[[0, 0], [0.45, 0], [0.45, 1], [0, 1]]] }, kept: [1] },
    { what: 'no filters keep all', filters: {}, kept: [0, 1] },
  ] satisfies Array<{ what: string; filters: Partial<DetectionFilters>; kept: number[] }>)('filters: $what', ({ filters, kept }) => {
    // Box 0: 40×80 px (0.0032 of the frame) at x 0.3; box 1: 200×200 px (0.04) at x 0.7.
    const d = dets([{ x: 0.3, y: 0.4 }, { x: 0.7, y: 0.4, w: 200, h: 200 }]);
    const out = engine([], { filters }).process({ frameId: 0, ptsS: 0, detections: d });
    const xs = Array.from({ length: out.detections.count }, (_, i) => out.detections.xyxy[4 * i]!);
    expect(xs).toEqual(kept.map((i) => d.xyxy[4 * i]!));
  });

  it('reconfigure keeps the state of unchanged rules, resets changed ones, closes removed ones', () => {
    // Zones without debounce here (it has its own tests): one frame is enough to enter, and to leave.
    const zone = { id: 'z', type: 'zone_presence', zone: ZONE, enter_after_s: 0, leave_after_s: 0 };
    const e = engine([LINE, zone, { id: 'gone', type: 'zone_occupancy', zone: ZONE, min_count: 1, enter_after_s: 0, leave_after_s: 0 }]);
    // Person 1 crosses the line (count 1), person 2 stands in the zone.
    run(e, [...walkDown(9), dets([{ x: 0.4, y: 0.4 }])]);
    expect(e.counters()).toEqual({
      gate: { type: 'line_crossing', counts: { person: { in: 1, out: 0 } } },
      z: { type: 'zone_presence', occupancy: 1 },
      gone: { type: 'zone_occupancy', occupancy: 1, active: true },
    });
    // Same line (a deep-equal copy), zone moved, occupancy rule removed.
    const moved = { ...zone, zone: [[0.3, 0.3], [0.7, 0.3], [0.7, 0.7], [0.3, 0.7]] };
    e.reconfigure(rules([structuredClone(LINE), moved]));
    expect(e.stateSize().retired).toBe(2);
    const next = e.process({ frameId: 10, ptsS: 1, detections: dets([{ x: 0.41, y: 0.41 }]) });
    expect(next.events.map((ev) => [ev.rule_id, ev.type, ev.track_id, ev.extra.reason])).toEqual([
      ['z', 'leave', 2, 'reconfigured'],
      ['gone', 'ended', null, 'reconfigured'],
      ['z', 'enter', 2, undefined],
    ]);
    expect(e.counters()).toEqual({ gate: { type: 'line_crossing', counts: { person: { in: 1, out: 0 } } }, z: { type: 'zone_presence', occupancy: 1 } });
    // A changed line starts counting afresh.
    e.reconfigure(rules([{ ...LINE, hysteresis: 0.02 }, moved]));
    e.process({ frameId: 11, ptsS: 1.1, detections: dets([{ x: 0.41, y: 0.41 }]) });
    expect(e.counters().gate).toEqual({ type: 'line_crossing', counts: {} });
    expect(e.stateSize().retired).toBe(0);
  });

  it('reconfigure with new filters applies them from the next frame', () => {
    const zone = { id: 'z', type: 'zone_presence', zone: ZONE, enter_after_s: 0 };
    const e = engine([zone]);
    run(e, [dets([{ x: 0.4, y: 0.4 }])]);
    e.reconfigure(rules([zone]), { ignore_zones: [ZONE.map((p) => [p[0]!, p[1]!] as [number, number])] });
    const { events, outputs } = run(e, Array.from({ length: 12 }, () => dets([{ x: 0.4, y: 0.4 }])), 0.1, 1);
    // Never seen again (filtered out): the track expires on frame 11, the leave is dated at its last sighting.
    expect(events.map((ev) => [ev.frame_id, ev.type, ev.extra.reason])).toEqual([[0, 'leave', 'expired']]);
    expect(outputs[10]!.events).toHaveLength(1);
  });

  it('reconfigure with other labels (class groups) restarts every rule: class ids changed meaning', () => {
    // Without zone debounce, as in the reconfigure test above: one frame enters, one leaves.
    const zone = { id: 'z', type: 'zone_presence', zone: ZONE, enter_after_s: 0, leave_after_s: 0 };
    const e = engine([LINE, zone]);
    run(e, [...walkDown(9), dets([{ x: 0.4, y: 0.4 }])]);
    e.reconfigure(rules([LINE, zone]), undefined, [...LABELS]);
    expect(e.stateSize().retired).toBe(0);
    e.reconfigure(rules([LINE, zone]), undefined, [...LABELS, 'vehicle']);
    expect(e.stateSize().retired).toBe(2);
    const next = e.process({ frameId: 10, ptsS: 1, detections: dets([{ x: 0.41, y: 0.41 }]) });
    expect(next.events.map((ev) => [ev.rule_id, ev.type, ev.extra.reason])).toEqual([
      ['z', 'leave', 'reconfigured'],
      ['z', 'enter', undefined],
    ]);
    expect(e.counters().gate).toEqual({ type: 'line_crossing', counts: {} });
  });

  it('inference.confidence starts tracks; weaker boxes only extend one, and unmatched ones are not objects', () => {
    const e = engine([], { filters: { confidence: 0.3 } });
    // A person seen confidently, then weakly (0.15: half hidden), and a weak box elsewhere.
    const first = e.process({ frameId: 0, ptsS: 0, detections: dets([{ x: 0.5, y: 0.5, conf: 0.8 }]) });
    expect(Array.from(first.detections.trackId)).toEqual([1]);
    const weak = e.process({ frameId: 1, ptsS: 0.1, detections: dets([{ x: 0.5, y: 0.5, conf: 0.15 }, { x: 0.1, y: 0.9, conf: 0.2 }]) });
    expect(Array.from(weak.detections.trackId)).toEqual([1]);
    expect(Array.from(weak.detections.confidence)).toEqual([expect.closeTo(0.15, 5)]);
    // A reconfigured confidence moves the line from the next frame: 0.35 no longer starts a track.
    e.reconfigure(rules([]), { confidence: 0.4 });
    const after = e.process({ frameId: 2, ptsS: 0.2, detections: dets([{ x: 0.1, y: 0.9, conf: 0.35 }]) });
    expect(after.detections.count).toBe(0);
  });

  it('finish ends everything still open', () => {
    const e = engine([{ id: 'z', type: 'zone_presence', zone: ZONE }, { id: 'a', type: 'zone_absence', zone: ZONE, classes: ['car'], min_seconds: 0 }]);
    run(e, Array.from({ length: 4 }, () => dets([{ x: 0.4, y: 0.4 }])));
    expect(e.finish({ frameId: 7, ptsS: 2 }).map((ev) => [ev.rule_id, ev.type, ev.frame_id, ev.extra.reason])).toEqual([
      ['z', 'leave', 7, 'stopped'],
      ['a', 'ended', 7, 'stopped'],
    ]);
  });

  it('every enter and started gets its leave and ended (random walks, then finish)', () => {
    const list = [{ id: 'z', type: 'zone_presence', zone: ZONE }, { id: 'o', type: 'zone_occupancy', zone: ZONE, min_count: 2 }, { id: 'a', type: 'zone_absence', zone: ZONE, min_seconds: 0.3 }];
    const step = fc.array(fc.tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 })), { maxLength: 4 });
    fc.assert(
      fc.property(fc.array(fc.option(step, { nil: undefined }), { maxLength: 50 }), (script) => {
        const e = engine(list);
        const frames = script.map((s) => (s ? dets(s.map(([x, y]) => ({ x: x / 100, y: y / 100 }))) : undefined));
        const { events } = run(e, frames);
        events.push(...e.finish({ frameId: 999, ptsS: 99 }));
        const open = new Map<string, number>();
        for (const ev of events) {
          const key = `${ev.rule_id}:${ev.track_id}`;
          const delta = ev.type === 'enter' || ev.type === 'started' ? 1 : ev.type === 'leave' || ev.type === 'ended' ? -1 : 0;
          open.set(key, (open.get(key) ?? 0) + delta);
          expect(open.get(key)).toBeGreaterThanOrEqual(0);
          expect(open.get(key)).toBeLessThanOrEqual(1);
        }
        expect([...open.values()].every((v) => v === 0)).toBe(true);
        expect(new Set(events.map((ev) => ev.id)).size).toBe(events.length);
      }),
      { numRuns: 150 },
    );
  });

  it('a pts that goes backwards does not move time back', () => {
    const e = engine([{ id: 'z', type: 'zone_presence', zone: ZONE, enter_after_s: 0 }]);
    e.process({ frameId: 0, ptsS: 5, detections: dets([{ x: 0.9, y: 0.4 }]) });
    const out = e.process({ frameId: 1, ptsS: 2, detections: dets([{ x: 0.4, y: 0.4 }]) });
    expect(out.events.map((ev) => [ev.pts, ev.time])).toEqual([[5, '2026-01-01T12:00:00.000Z']]);
  });
});
