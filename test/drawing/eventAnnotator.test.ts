import { describe, expect, it } from 'vitest';
import { makeDetections, type Detections } from '../../src/detections.js';
import { DEFAULT_HIGHLIGHT } from '../../src/drawing/boxAnnotator.js';
import { createEventAnnotator, DEFAULT_EVENT_TEXT_SECONDS, eventText, type EventForText } from '../../src/drawing/eventAnnotator.js';
import { makeClassColor } from '../../src/drawing/palette.js';
import { TagLayout } from '../../src/drawing/tagLayout.js';
import type { ZoneDrawing } from '../../src/drawing/zoneAnnotator.js';
import { changedLuma, copyFrame, makeFrame, xyOf } from './helpers.js';

const one = (x1: number, y1: number, x2: number, y2: number, trackId = 7): Detections =>
  makeDetections({ xyxy: Float32Array.of(x1, y1, x2, y2), confidence: Float32Array.of(0.9), classId: Int32Array.of(0), trackId: Int32Array.of(trackId) });

const cross = (trackId: number, direction: 'in' | 'out'): EventForText => ({ type: 'cross', track_id: trackId, rule_id: 'walkway', direction, extra: { count: 3 } });

describe('rule texts', () => {
  it('the text comes from the event: direction for a crossing, else the type, with its seconds', () => {
    expect(eventText(cross(1, 'in'))).toBe('IN');
    expect(eventText(cross(1, 'out'))).toBe('OUT');
    expect(eventText({ type: 'dwell', track_id: 1, rule_id: 'door', extra: { seconds: 32.4 } })).toBe('DWELL 32 s');
    expect(eventText({ type: 'dwell', track_id: 1, rule_id: 'door', extra: { seconds: 5 } })).toBe('DWELL 5 s');
    expect(eventText({ type: 'leave', track_id: 1, rule_id: 'door', extra: { seconds: 4.46, reason: 'left' } })).toBe('LEAVE 4.5 s');
    expect(eventText({ type: 'enter', track_id: 1, rule_id: 'door', extra: {} })).toBe('ENTER');
    expect(eventText({ type: 'started', track_id: null, rule_id: 'queue', extra: { count: 6, seconds: Number.NaN } })).toBe('STARTED');
  });

  it('shows the text by its object in the highlight colour, follows it, and goes after the configured source time', async () => {
    const W = 320;
    const H = 240;
    const ann = await createEventAnnotator({ width: W, height: H });
    expect(DEFAULT_EVENT_TEXT_SECONDS).toBe(1.5);
    const layout = new TagLayout();
    const red = makeClassColor(DEFAULT_HIGHLIGHT).fill;
    const inkBelow = (f: ReturnType<typeof makeFrame>, before: ReturnType<typeof makeFrame>, x1: number, y2: number): number =>
      [...changedLuma(before, f)].map(xyOf).filter(([x, y]) => y >= y2 && x >= x1 && x < x1 + 60).length;

    const draw = (t: number, d: Detections, events?: EventForText[]) => {
      const f = makeFrame(W, H);
      const before = copyFrame(f) as ReturnType<typeof makeFrame>;
      layout.begin(W, H);
      ann.draw(f, t, events, d, undefined, layout);
      return { f, before };
    };
    // The frame it fires on: below the box, in the highlight colour.
    const a = draw(10, one(100, 50, 140, 150), [cross(7, 'in')]);
    expect(inkBelow(a.f, a.before, 100, 150)).toBeGreaterThan(100);
    expect(a.f.pixels[151 * W + 101]).toBe(red.y);
    expect(ann.active).toBe(1);
    // 1.4 s later the object has moved: the text moved with it.
    const b = draw(11.4, one(180, 60, 220, 160));
    expect(inkBelow(b.f, b.before, 180, 160)).toBeGreaterThan(100);
    expect(inkBelow(b.f, b.before, 100, 150)).toBe(0);
    // Another object in the picture gets nothing.
    const c = draw(11.45, one(20, 20, 60, 100, 8));
    expect(changedLuma(c.before, c.f).size).toBe(0);
    // Past 1.5 s: gone.
    const d = draw(11.5, one(180, 60, 220, 160));
    expect(changedLuma(d.before, d.f).size).toBe(0);
    expect(ann.active).toBe(0);
  });

  it('lasts as configured; two events on one frame read together; a zone-wide event shows by its zone', async () => {
    const W = 320;
    const H = 240;
    const ann = await createEventAnnotator({ width: W, height: H, style: { seconds: 5 } });
    const layout = new TagLayout();
    const zone: ZoneDrawing = { id: 'queue', name: 'queue', polygon: [[200, 100], [300, 100], [300, 200], [200, 200]] };
    const none = makeDetections({ xyxy: new Float32Array(0), confidence: new Float32Array(0), classId: new Int32Array(0) });
    layout.begin(W, H);
    ann.draw(makeFrame(W, H), 1, [cross(7, 'in'), { type: 'dwell', track_id: 7, rule_id: 'door', extra: { seconds: 9 } }], one(10, 10, 50, 90), undefined, layout);
    layout.begin(W, H);
    const f = makeFrame(W, H);
    const before = copyFrame(f);
    ann.draw(f, 5.9, [{ type: 'started', track_id: null, rule_id: 'queue', extra: { count: 6 } }], none, [zone], layout);
    expect(ann.active).toBe(2); // the crossing's text is still on (5 s), its object just not in this frame
    const ink = [...changedLuma(before, f)].map(xyOf);
    expect(ink.length).toBeGreaterThan(50);
    // By the zone's highest vertex (the first of equals, 200, 100), where the zone's name tag is.
    for (const [x, y] of ink) expect(Math.abs(x - 200) < 60 && y >= 80 && y < 150, `ink at ${x},${y}`).toBe(true);
    // The object's two texts as one, wider than either alone.
    layout.begin(W, H);
    const g = makeFrame(W, H);
    const g0 = copyFrame(g);
    ann.draw(g, 5.95, undefined, one(10, 10, 50, 90), undefined, layout);
    const xs = [...changedLuma(g0, g)].map(xyOf).map(([x]) => x);
    expect(Math.max(...xs) - Math.min(...xs)).toBeGreaterThan('IN, DWELL 9 s'.length * 5);
    // A clock that goes back (a new source) drops every text.
    layout.begin(W, H);
    ann.draw(makeFrame(W, H), 0, undefined, none, undefined, layout);
    expect(ann.active).toBe(0);
  });
});
