import { describe, expect, it } from 'vitest';
import { BOX_TAG_CANDIDATES, boxTagCandidates, EVENT_TAG_CANDIDATES, eventTagCandidates, TagLayout } from '../../src/drawing/tagLayout.js';

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

const overlap = (a: Rect, b: Rect): number =>
  Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x)) * Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));

/** Box tags laid out the way the box annotator does: in the given order, each from its box's candidates. */
function layoutBoxes(W: number, H: number, boxes: { box: [number, number, number, number]; w: number }[], h: number, reserved: Rect[] = []): Rect[] {
  const layout = new TagLayout();
  layout.begin(W, H);
  for (const r of reserved) layout.reserve(r.x, r.y, r.w, r.h);
  const cand = new Float64Array(2 * BOX_TAG_CANDIDATES);
  const out = new Int32Array(2);
  return boxes.map(({ box, w }) => {
    const n = boxTagCandidates(cand, box[0], box[1], box[2], box[3], w, h);
    layout.place(cand, n, w, h, out);
    return { x: out[0]!, y: out[1]!, w, h };
  });
}

function expectDisjointInside(tags: Rect[], W: number, H: number): void {
  for (const [i, t] of tags.entries()) {
    expect(t.x, `tag ${i} left`).toBeGreaterThanOrEqual(0);
    expect(t.y, `tag ${i} top`).toBeGreaterThanOrEqual(0);
    expect(t.x + t.w, `tag ${i} right`).toBeLessThanOrEqual(W);
    expect(t.y + t.h, `tag ${i} bottom`).toBeLessThanOrEqual(H);
    for (let j = 0; j < i; j++) expect(overlap(t, tags[j]!), `tags ${j} and ${i}`).toBe(0);
  }
}

/** Distance from a tag to its box (0 when they touch or overlap). */
const gapTo = (t: Rect, [x1, y1, x2, y2]: [number, number, number, number]): number =>
  Math.max(0, x1 - (t.x + t.w), t.x - x2) + Math.max(0, y1 - (t.y + t.h), t.y - y2);

// The plaza at 768x576: text 14 px, 8 px a character, padding 3, tags 20 px tall.
const W = 768;
const H = 576;
const TAG_H = 20;
const width = (text: string): number => Math.ceil((text.length * 8 + 6) / 2) * 2;

describe('tag layout', () => {
  it('a lone tag goes above its box, left-aligned, on even pixels', () => {
    const [t] = layoutBoxes(W, H, [{ box: [301, 201, 340, 290], w: 94 }], TAG_H);
    expect(t).toEqual({ x: 300, y: 180, w: 94, h: TAG_H });
  });

  it('the parked vehicles: the van seen as car and truck, and the car beside it, get three separate tags', () => {
    // Frame 300 of the plaza clip: #6 car and #5 truck are the same white van, #3 the car cut by the edge.
    const boxes: { box: [number, number, number, number]; w: number }[] = [
      { box: [651, 44, 725, 101], w: width('#5 truck 0.75') },
      { box: [651, 43, 724, 100], w: width('#6 car 0.66') },
      { box: [733, 51, 768, 93], w: width('#3 car 0.61') },
    ];
    const reserved = [{ x: 586, y: 0, w: 86, h: TAG_H }]; // the zone's "parking: 3" tag
    const tags = layoutBoxes(W, H, boxes, TAG_H, reserved);
    expectDisjointInside([...reserved, ...tags], W, H);
    for (const [i, t] of tags.entries()) expect(gapTo(t, boxes[i]!.box), `tag ${i} by its box`).toBe(0);
  });

  it('neighbouring people: tags that would merge ("#23 person 0.695 person 0.81") are split onto rows', () => {
    const boxes: { box: [number, number, number, number]; w: number }[] = [
      { box: [215, 160, 248, 236], w: width('person 0.81') },
      { box: [186, 158, 220, 235], w: width('#23 person 0.69') },
      { box: [243, 157, 271, 221], w: width('#4 person 0.60') },
    ];
    const tags = layoutBoxes(W, H, boxes, TAG_H);
    expectDisjointInside(tags, W, H);
    for (const [i, t] of tags.entries()) expect(gapTo(t, boxes[i]!.box), `tag ${i} by its box`).toBe(0);
  });

  it('tags at the frame edges are moved in whole, never cut', () => {
    const boxes: { box: [number, number, number, number]; w: number }[] = [
      { box: [740, 200, 768, 260], w: width('#12 person 0.87') }, // right edge
      { box: [-20, 300, 30, 380], w: width('#13 person 0.80') }, // left edge, box partly outside
      { box: [400, 0, 450, 60], w: width('#14 person 0.70') }, // top edge: no room above
      { box: [400, 530, 450, 576], w: width('#15 person 0.60') }, // bottom edge
      { box: [700, 0, 768, 40], w: width('#16 car 0.50') }, // top-right corner
    ];
    const tags = layoutBoxes(W, H, boxes, TAG_H);
    expectDisjointInside(tags, W, H);
    expect(tags[0]!.x + tags[0]!.w).toBe(W);
    expect(tags[1]!.x).toBe(0);
    expect(tags[2]!.y).toBe(0);
    expect(tags[3]!.y).toBe(530 - TAG_H);
    // A tag wider than the frame starts at its left edge (the end is cut, not the start).
    const [wide] = layoutBoxes(100, 50, [{ box: [50, 20, 60, 30], w: 140 }], TAG_H);
    expect(wide!.x).toBe(0);
  });

  it('a crowd: every tag inside, none overlapping while room remains, deterministic', () => {
    const boxes: { box: [number, number, number, number]; w: number }[] = [];
    for (let i = 0; i < 12; i++) {
      const x = 100 + i * 30;
      const y = 200 + (i % 3) * 8;
      boxes.push({ box: [x, y, x + 28, y + 70], w: width(`#${i + 1} person 0.${50 + i}`) });
    }
    const a = layoutBoxes(W, H, boxes, TAG_H);
    expectDisjointInside(a, W, H);
    expect(layoutBoxes(W, H, boxes, TAG_H)).toEqual(a);
  });

  it('when no candidate is free, the one overlapping least (the earliest of equals)', () => {
    // A 100 x 40 frame has room for two rows of 20: the third tag must overlap one of them.
    const layout = new TagLayout();
    layout.begin(100, 40);
    const out = new Int32Array(2);
    layout.place(Float64Array.of(0, 0), 1, 100, 20, out);
    layout.place(Float64Array.of(0, 20), 1, 40, 20, out);
    // Candidates: top row (overlaps 60 x 20), bottom row right (free of the 40-wide tag but for 10 x 20).
    const k = layout.place(Float64Array.of(20, 0, 30, 20), 2, 60, 20, out);
    expect(k).toBe(1);
    expect([out[0], out[1]]).toEqual([30, 20]);
    expect(layout.overlapWith(30, 20, 60, 20)).toBe(10 * 20 + 60 * 20); // counts itself now, too
    // Equal overlaps: the first candidate.
    layout.begin(100, 40);
    layout.place(Float64Array.of(0, 0), 1, 100, 40, out);
    expect(layout.place(Float64Array.of(10, 0, 20, 0), 2, 20, 20, out)).toBe(0);
  });

  it('a preferred spot is tried right after the best one, so a pushed tag stays where it went', () => {
    const layout = new TagLayout();
    const out = new Int32Array(2);
    const cand = Float64Array.of(0, 0, 0, 20, 0, 40, 0, 60);
    layout.begin(200, 200);
    layout.reserve(0, 0, 50, 20); // the best spot is taken
    expect(layout.place(cand, 4, 50, 20, out, 2)).toBe(2); // preferred (third) before the second
    layout.begin(200, 200);
    expect(layout.place(cand, 4, 50, 20, out, 2)).toBe(0); // home is free: back home
    layout.begin(200, 200);
    layout.reserve(0, 0, 50, 20);
    layout.reserve(0, 40, 50, 20);
    expect(layout.place(cand, 4, 50, 20, out, 2)).toBe(1); // preferred taken: the others in order
  });

  it('begin forgets the last frame; non-finite candidates and empty lists are harmless', () => {
    const layout = new TagLayout();
    const out = new Int32Array(2);
    layout.begin(50, 50);
    for (let i = 0; i < 200; i++) layout.place(Float64Array.of(0, 0), 1, 10, 10, out); // grows past its first capacity
    expect(layout.size).toBe(200);
    layout.begin(50, 50);
    expect(layout.size).toBe(0);
    expect(layout.place(Float64Array.of(Number.NaN, Infinity), 1, 10, 10, out)).toBe(0);
    expect([out[0], out[1]]).toEqual([0, 0]); // a coordinate that is not a number: the frame's corner
    expect(layout.place(new Float64Array(0), 0, 10, 10, out)).toBe(-1);
  });

  it('rule texts go below the box first (the row above is the box tag\'s)', () => {
    const cand = new Float64Array(2 * EVENT_TAG_CANDIDATES);
    expect(eventTagCandidates(cand, 100, 50, 140, 150, 30, 20)).toBe(EVENT_TAG_CANDIDATES);
    expect([cand[0], cand[1]]).toEqual([100, 150]);
  });
});
