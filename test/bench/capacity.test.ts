import { describe, expect, it } from 'vitest';
import { streamFigures } from '../../src/bench/liveCapacity.js';

/** What one live stream did between two of the engine's `run stats` lines. */

const stats = (time: number, o: Partial<Record<'framesIn' | 'framesOut' | 'framesRepeated' | 'framesSlate' | 'dropped' | 'droppedEncoderBusy', number>>) => ({
  runId: 'r', time, framesIn: 0, framesOut: 0, framesRepeated: 0, framesSlate: 0, dropped: 0, droppedEncoderBusy: 0, ...o,
});

describe('streamFigures', () => {
  it('counts new frames only (repeats and slates are not), per second of the lines\' own times', () => {
    const a = stats(10_000, { framesIn: 100, framesOut: 100, framesRepeated: 5 });
    const b = stats(20_000, { framesIn: 350, framesOut: 350, framesRepeated: 15, framesSlate: 5 });
    const f = streamFigures(a, b);
    expect(f.fps).toBeCloseTo((350 - 15 - 5 - (100 - 5)) / 10, 9);
    expect(f.framesIn).toBe(250);
    expect(f.droppedPct).toBe(0);
  });

  it('drops in the queues and frames the busy encoder replaced both count as dropped', () => {
    const a = stats(0, { framesIn: 0, dropped: 1 });
    const b = stats(4000, { framesIn: 100, framesOut: 97, dropped: 3, droppedEncoderBusy: 1 });
    expect(streamFigures(a, b).droppedPct).toBeCloseTo(3, 9);
  });

  it('a stream that took no frames in the window dropped everything', () => {
    const a = stats(0, { framesIn: 10 });
    expect(streamFigures(a, stats(1000, { framesIn: 10 })).droppedPct).toBe(100);
  });
});
