import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { answersNudge, NUDGE_ANSWERERS, parseNudge } from '../../src/actors/nudgeAnswer.js';

describe('who answers a sie_runs nudge', () => {
  it('reads the pool and the transaction; an old payload has no token', () => {
    expect(parseNudge('gpu 4711')).toEqual({ pool: 'gpu', token: 4711 });
    expect(parseNudge(' 12')).toEqual({ pool: '', token: 12 });
    expect(parseNudge('cpu')).toEqual({ pool: 'cpu', token: null });
    expect(parseNudge('cpu x')).toEqual({ pool: 'cpu', token: null });
  });

  it('everyone answers without a place, without a token, or in a pool of few engines', () => {
    expect(answersNudge(7, undefined)).toBe(true);
    expect(answersNudge(null, { rank: 150, peers: 200 })).toBe(true);
    for (let rank = 0; rank < NUDGE_ANSWERERS; rank++) expect(answersNudge(7, { rank, peers: NUDGE_ANSWERERS })).toBe(true);
  });

  it('exactly the answerers of a pool answer each nudge, and every engine answers some', () => {
    fc.assert(
      fc.property(fc.integer({ min: NUDGE_ANSWERERS + 1, max: 400 }), fc.nat(2 ** 40), (peers, token) => {
        const answering = Array.from({ length: peers }, (_, rank) => answersNudge(token, { rank, peers })).filter(Boolean).length;
        expect(answering).toBe(NUDGE_ANSWERERS);
      }),
    );
    const peers = 50;
    const answered = new Set<number>();
    for (let token = 1000; token < 1000 + peers; token++) {
      for (let rank = 0; rank < peers; rank++) if (answersNudge(token, { rank, peers })) answered.add(rank);
    }
    expect(answered.size).toBe(peers);
  });
});
