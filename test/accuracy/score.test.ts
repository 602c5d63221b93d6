import { describe, expect, it } from 'vitest';
import { scoreCrossings, scoreMoments, scoreVisits, type Crossing } from '../../src/accuracy/score.js';

const c = (frame: number, direction: Crossing['direction'] = 'in'): Crossing => ({ frame, direction });

describe('scoreCrossings', () => {
  it('matches within the tolerance, both ways, ends included', () => {
    const s = scoreCrossings([c(100), c(200)], [c(110), c(190)]);
    expect(s).toMatchObject({ matched: 2, missed: 0, falseAlarms: 0, recall: 1, precision: 1 });
    expect(s.pairs).toEqual([[0, 0], [1, 1]]);
  });

  it('misses outside the tolerance, which is configurable', () => {
    expect(scoreCrossings([c(100)], [c(111)])).toMatchObject({ matched: 0, missed: 1, falseAlarms: 1, recall: 0, precision: 0 });
    expect(scoreCrossings([c(100)], [c(111)], { toleranceFrames: 11 })).toMatchObject({ matched: 1 });
    expect(scoreCrossings([c(100)], [c(101)], { toleranceFrames: 0 })).toMatchObject({ matched: 0 });
    expect(() => scoreCrossings([], [], { toleranceFrames: -1 })).toThrow(RangeError);
  });

  it('a crossing counted the wrong way is a miss and a false alarm', () => {
    const s = scoreCrossings([c(100, 'in')], [c(100, 'out')]);
    expect(s).toMatchObject({ matched: 0, missed: 1, falseAlarms: 1, missedIndices: [0], falseAlarmIndices: [0] });
  });

  it('a double count is one match and one false alarm, never two matches', () => {
    const s = scoreCrossings([c(100)], [c(98), c(103)]);
    expect(s).toMatchObject({ matched: 1, missed: 0, falseAlarms: 1, precision: 0.5, recall: 1 });
    expect(s.pairs).toEqual([[0, 0]]);
    expect(s.falseAlarmIndices).toEqual([1]);
  });

  it('one engine event cannot find two people', () => {
    const s = scoreCrossings([c(100), c(104)], [c(102)]);
    expect(s).toMatchObject({ matched: 1, missed: 1, falseAlarms: 0, recall: 0.5, precision: 1 });
  });

  it('takes the most matches, not the nearest first (greedy would pair 100 with 95 and lose 88)', () => {
    // truth 88 can only reach 95 within ±10; truth 100 reaches 95 and 108.
    const s = scoreCrossings([c(100), c(88)], [c(95), c(108)]);
    expect(s.matched).toBe(2);
    expect(s.pairs).toEqual([[0, 1], [1, 0]]);
  });

  it('a tie at equal distance resolves the same way every time: the earlier engine event', () => {
    const s = scoreCrossings([c(100)], [c(105), c(95)]);
    expect(s.pairs).toEqual([[0, 0]]);
    expect(scoreCrossings([c(100)], [c(95), c(105)]).pairs).toEqual([[0, 0]]);
  });

  it('directions are matched separately in one list', () => {
    const s = scoreCrossings([c(100, 'in'), c(101, 'out')], [c(102, 'out'), c(99, 'in')]);
    expect(s.pairs).toEqual([[0, 1], [1, 0]]);
  });

  it('empty sides: no truth gives recall 1, no events precision 1', () => {
    expect(scoreCrossings([], [c(1)])).toMatchObject({ recall: 1, precision: 0, falseAlarms: 1 });
    expect(scoreCrossings([c(1)], [])).toMatchObject({ recall: 0, precision: 1, missed: 1 });
    expect(scoreCrossings([], [])).toMatchObject({ recall: 1, precision: 1, matched: 0 });
  });
});

describe('scoreVisits', () => {
  it('needs both entry and exit within the tolerance', () => {
    expect(scoreVisits([{ enter: 10, leave: 100 }], [{ enter: 15, leave: 95 }])).toMatchObject({ matched: 1 });
    expect(scoreVisits([{ enter: 10, leave: 100 }], [{ enter: 15, leave: 150 }])).toMatchObject({ matched: 0, missed: 1, falseAlarms: 1 });
  });

  it('a visit split by a flicker is at most one match and a false alarm', () => {
    const s = scoreVisits([{ enter: 10, leave: 100 }], [{ enter: 10, leave: 50 }, { enter: 51, leave: 100 }]);
    expect(s).toMatchObject({ matched: 0, missed: 1, falseAlarms: 2 });
  });
});

describe('scoreMoments', () => {
  it('matches point events one to one', () => {
    expect(scoreMoments([50], [50, 50])).toMatchObject({ matched: 1, falseAlarms: 1 });
  });
});
