import { describe, expect, it } from 'vitest';
import { newStopTracker } from '../../src/actors/stopTracker.js';

describe('stop tracker', () => {
  it('forgets stops once they have settled (one per reconnect must not pile up)', async () => {
    const t = newStopTracker();
    for (let i = 0; i < 100; i++) t.track(Promise.resolve());
    t.track(Promise.reject(new Error('kill failed')));
    await t.settled();
    await new Promise((r) => setImmediate(r));
    expect(t.pending).toBe(0);
  });

  it('settled() waits for the stops still pending', async () => {
    const t = newStopTracker();
    let finish!: () => void;
    let done = false;
    t.track(new Promise<void>((r) => (finish = r)));
    const all = t.settled().then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    expect(t.pending).toBe(1);
    finish();
    await all;
    expect(done).toBe(true);
  });
});
