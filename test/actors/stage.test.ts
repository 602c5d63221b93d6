import { describe, expect, it } from 'vitest';
import { createActor, setup } from 'xstate';
import { createStageActor } from '../../src/actors/stage.js';
import type { Stage } from '../../src/pipeline/stage.js';
import type { FrameRecord } from '../../src/frame.js';
import { DropOldestQueue } from '../../src/queue.js';
import { testFrame } from '../helpers/frames.js';
import { until } from '../helpers/processes.js';

/**
 * The live stage actor: one frame at a time, or a further one while the stage has room (an idle inference
 * worker), frames handed on in the order they came. Against a stage double whose frames finish when told.
 */

function harness(o: { room: () => boolean; fail?: number }) {
  const input = new DropOldestQueue<FrameRecord>(2);
  const output = new DropOldestQueue<FrameRecord>(16);
  const started: number[] = [];
  const finish = new Map<number, () => void>();
  const stage: Stage = {
    name: 'inference',
    hasRoom: o.room,
    reconfigure() {},
    process(frame) {
      started.push(frame.frameId);
      if (frame.frameId === o.fail) throw new Error('the model broke');
      return new Promise<void>((resolve) => finish.set(frame.frameId, resolve));
    },
    close() {},
  };
  const failures: string[] = [];
  const parent = setup({ actors: { stage: createStageActor(() => ({ stage, input, output })) } }).createMachine({
    invoke: { src: 'stage' },
    on: { 'stage.failed': { actions: ({ event }) => failures.push(String((event as unknown as { error: { message: string } }).error.message)) } },
  });
  const actor = createActor(parent).start();
  const out = (): number[] => {
    const ids: number[] = [];
    for (let f = output.poll(); f; f = output.poll()) ids.push(f.frameId);
    return ids;
  };
  const frame = (id: number) => input.push(testFrame({ frameId: id, width: 4, height: 4 }));
  return { input, output, started, finish, failures, actor, out, frame };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('live stage actor', () => {
  it('with room, a second frame starts beside the first; the first is handed on first even when it finishes last', async () => {
    const h = harness({ room: () => true });
    h.frame(0);
    h.frame(1);
    await until(() => h.started.length === 2, 2000, 'both frames started');
    h.finish.get(1)!();
    await tick();
    expect(h.out()).toEqual([]); // frame 1 waits for frame 0
    h.finish.get(0)!();
    await until(() => h.output.length === 2, 2000, 'both handed on');
    expect(h.out()).toEqual([0, 1]);
    h.actor.stop();
  });

  it('without room, one frame at a time: newer frames wait in the queue (and the oldest go when it is full)', async () => {
    const h = harness({ room: () => false });
    h.frame(0);
    await until(() => h.started.length === 1, 2000, 'frame 0 started');
    h.frame(1);
    h.frame(2);
    h.frame(3); // the queue holds two: frame 1 is dropped
    await tick();
    expect(h.started).toEqual([0]);
    h.finish.get(0)!();
    await until(() => h.started.length === 2, 2000, 'the next frame started');
    expect(h.started).toEqual([0, 2]);
    expect(h.input.dropped).toBe(1);
    h.finish.get(2)!();
    await until(() => h.started.length === 3, 2000, 'frame 3 started');
    h.finish.get(3)!();
    await until(() => h.output.length === 3, 2000, 'three handed on');
    expect(h.out()).toEqual([0, 2, 3]);
    h.actor.stop();
  });

  it('the end of the input closes the output after the frames in work are handed on', async () => {
    const h = harness({ room: () => true });
    h.frame(0);
    h.frame(1);
    await until(() => h.started.length === 2, 2000, 'both frames started');
    h.input.close();
    await tick();
    expect(h.output.isClosed).toBe(false);
    h.finish.get(0)!();
    h.finish.get(1)!();
    await until(() => h.output.isClosed, 2000, 'the output closed');
    expect(h.out()).toEqual([0, 1]);
    h.actor.stop();
  });

  it('a frame the stage throws on fails the run once; nothing after it is handed on', async () => {
    const h = harness({ room: () => true, fail: 1 });
    h.frame(0);
    h.frame(1);
    await until(() => h.failures.length === 1, 2000, 'stage.failed');
    expect(h.failures[0]).toContain('the model broke');
    h.finish.get(0)!();
    h.frame(2);
    await tick();
    await tick();
    expect(h.out()).toEqual([]);
    expect(h.failures).toHaveLength(1);
    h.actor.stop();
  });
});
