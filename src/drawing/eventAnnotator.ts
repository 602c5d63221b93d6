/**
 * Rule texts: when a rule fires, a short text next to the object it fired for ("IN", "OUT",
 * "DWELL 32 s", "ENTER"), in the highlight colour, for a while of SOURCE time (so a replay run faster
 * than real time shows it as long as a live one), following the object as it moves. An event about a
 * zone as a whole (occupancy, absence) shows its text by the zone's name tag instead.
 *
 * Nothing here decides what a rule means: the text is made from the event itself (its type, the
 * crossing's direction, the seconds it carries), so a new rule type shows up without a change here.
 */
import type { RuleEvent } from '../rules/index.js';
import { boxSizes, DEFAULT_HIGHLIGHT, type BoxSizes, type BoxStyle } from './boxAnnotator.js';
import { loadGlyphAtlas } from './glyphAtlas.js';
import { makeClassColor } from './palette.js';
import { drawTag, tagWidth } from './tag.js';
import { eventTagCandidates, type TagLayout } from './tagLayout.js';
import type { Detections } from '../detections.js';
import type { FramePixels } from './yuv.js';
import type { ZoneDrawing } from './zoneAnnotator.js';

/** The part of a rule event the texts are made from. */
export type EventForText = Pick<RuleEvent, 'type' | 'track_id' | 'rule_id'> & Partial<Pick<RuleEvent, 'direction' | 'extra'>>;

export interface EventTextStyle extends Pick<BoxStyle, 'textScale' | 'highlightColor'> {
  /** How long a text stays, in seconds of source time; default DEFAULT_EVENT_TEXT_SECONDS. */
  seconds?: number;
}

export interface EventAnnotator {
  readonly sizes: BoxSizes;
  /** Texts shown now (tests, metrics). */
  readonly active: number;
  /**
   * Take this frame's events (at source time `nowS`), forget the texts that are over, and draw the
   * others next to their objects in `detections` (or their zones), placed in `layout`.
   */
  draw(frame: FramePixels, nowS: number, events: readonly EventForText[] | undefined, detections: Detections, zones: readonly ZoneDrawing[] | undefined, layout: TagLayout): void;
  /** Forget every text (a source reconnect). */
  reset(): void;
}

export const DEFAULT_EVENT_TEXT_SECONDS = 1.5;
/** Texts kept at once; past this the oldest goes (a crowd crossing at once still shows most of them). */
const MAX_TEXTS = 512;

/** "32" for 32.4, "4.5" for 4.5, "5" for 5.0: seconds as an operator reads them. */
function formatSeconds(s: number): string {
  const v = s >= 10 ? Math.round(s) : Math.round(s * 10) / 10;
  return String(v);
}

/**
 * The text for one event: the crossing's direction for a `cross` ("IN", "OUT"), else the event type
 * ("DWELL", "ENTER", "STARTED"…), followed by the seconds the event carries, if any ("DWELL 32 s").
 */
export function eventText(e: EventForText): string {
  const label = (e.type === 'cross' && e.direction ? e.direction : e.type).toUpperCase();
  const seconds = e.extra?.['seconds'];
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? `${label} ${formatSeconds(seconds)} s` : label;
}

interface Shown {
  text: string;
  /** Source time it appeared and it goes. */
  fromS: number;
  untilS: number;
}

export async function createEventAnnotator(opts: { width: number; height: number; style?: EventTextStyle }): Promise<EventAnnotator> {
  const style = opts.style ?? {};
  const sizes = boxSizes(opts.width, opts.height, style);
  const atlas = await loadGlyphAtlas(sizes.textHeight);
  const color = makeClassColor(style.highlightColor ?? DEFAULT_HIGHLIGHT);
  const seconds = Math.max(0, style.seconds ?? DEFAULT_EVENT_TEXT_SECONDS);
  const byTrack = new Map<number, Shown>();
  const byZone = new Map<string, Shown>();
  const cand = new Float64Array(12);
  const tag = new Int32Array(2);
  const h = sizes.tagHeight;

  /** Add or extend the text of one object or zone. Two events on one frame read "IN, DWELL 5 s". */
  const show = <K>(map: Map<K, Shown>, key: K, text: string, nowS: number): void => {
    const prev = map.get(key);
    if (prev && prev.fromS === nowS && prev.text !== text) prev.text = `${prev.text}, ${text}`;
    else if (prev) {
      prev.text = text;
      prev.fromS = nowS;
    } else {
      if (map.size >= MAX_TEXTS) map.delete(map.keys().next().value as K);
      map.set(key, { text, fromS: nowS, untilS: 0 });
    }
    map.get(key)!.untilS = nowS + seconds;
  };

  const expire = <K>(map: Map<K, Shown>, nowS: number): void => {
    if (map.size === 0) return;
    // A clock that went back (a new source) makes every text stale.
    for (const [k, s] of map) if (!(nowS < s.untilS) || nowS < s.fromS) map.delete(k);
  };

  const draw: EventAnnotator['draw'] = (frame, nowS, events, d, zones, layout) => {
    if (events) {
      for (const e of events) {
        const text = eventText(e);
        if (e.track_id !== null && e.track_id !== undefined) show(byTrack, e.track_id, text, nowS);
        else show(byZone, e.rule_id, text, nowS);
      }
    }
    expire(byTrack, nowS);
    expire(byZone, nowS);
    if (byTrack.size > 0) {
      for (let i = 0; i < d.count; i++) {
        const tid = d.trackId[i]!;
        const s = tid >= 0 ? byTrack.get(tid) : undefined;
        if (!s) continue;
        const x1 = d.xyxy[4 * i]!;
        const y1 = d.xyxy[4 * i + 1]!;
        const x2 = d.xyxy[4 * i + 2]!;
        const y2 = d.xyxy[4 * i + 3]!;
        if (!(Number.isFinite(x1) && Number.isFinite(y1) && Number.isFinite(x2) && Number.isFinite(y2))) continue;
        const w = tagWidth(s.text.length, atlas, sizes);
        // The box as the box annotator draws it (snapped outward to even pixels), so "below the box"
        // here and "inside its bottom edge" there are the same line, not 2 px into each other.
        const bx1 = Math.floor(Math.min(x1, x2) / 2) * 2;
        const by1 = Math.floor(Math.min(y1, y2) / 2) * 2;
        const bx2 = Math.ceil(Math.max(x1, x2) / 2) * 2;
        const by2 = Math.ceil(Math.max(y1, y2) / 2) * 2;
        const n = eventTagCandidates(cand, bx1, by1, bx2, by2, w, h);
        layout.place(cand, n, w, h, tag);
        drawTag(frame, atlas, sizes, s.text, tag[0]!, tag[1]!, color);
      }
    }
    if (byZone.size > 0 && zones) {
      for (const z of zones) {
        const s = byZone.get(z.id);
        if (!s || z.polygon.length < 3) continue;
        // By the zone's highest vertex, where its name tag is: the rows around it, nearest first.
        let top = 0;
        for (let k = 1; k < z.polygon.length; k++) if (z.polygon[k]![1] < z.polygon[top]![1]) top = k;
        const [vx, vy] = z.polygon[top]!;
        if (!Number.isFinite(vx) || !Number.isFinite(vy)) continue;
        const w = tagWidth(s.text.length, atlas, sizes);
        for (let k = 0; k < 4; k++) {
          cand[2 * k] = vx - w / 2;
          cand[2 * k + 1] = vy + (k - 1) * h;
        }
        layout.place(cand, 4, w, h, tag);
        drawTag(frame, atlas, sizes, s.text, tag[0]!, tag[1]!, color);
      }
    }
  };

  return {
    sizes,
    get active() {
      return byTrack.size + byZone.size;
    },
    draw,
    reset() {
      byTrack.clear();
      byZone.clear();
    },
  };
}
