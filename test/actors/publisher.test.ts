import { describe, expect, it, vi } from 'vitest';
import { createActor, setup, type EventObject } from 'xstate';

/** The slate's fonts cannot be prepared (sharp or the font missing): the publisher must say so, not crash. */
vi.mock('../../src/drawing/slate.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/drawing/slate.js')>()),
  prepareSlate: () => Promise.reject(new Error('font not found')),
}));

const { createPublisherActor } = await import('../../src/actors/publisher.js');
const { newRunPipes, newRunStats } = await import('../../src/actors/resources.js');
const { defaultEncoderSettings } = await import('../../src/io/ffmpeg/encoder.js');
const { silentLogger } = await import('../../src/log.js');

describe('publisher actor', () => {
  it('a failure before ffmpeg #2 starts ends the run with stage.failed (not an unhandled rejection)', async () => {
    const stats = newRunStats();
    const pipes = newRunPipes(stats);
    const heard: EventObject[] = [];
    let got!: () => void;
    const failed = new Promise<void>((r) => (got = r));
    const machine = setup({
      actors: {
        publisher: createPublisherActor({
          pipes,
          stats,
          sourceState: { info: { codec: 'h264', width: 16, height: 16, fps: 25 }, nextFrameId: 0 },
          encoder: defaultEncoderSettings,
          getMount: () => undefined,
          logger: silentLogger,
          track: () => undefined,
        }),
      },
    }).createMachine({
      invoke: { src: 'publisher' },
      on: {
        '*': {
          actions: ({ event }) => {
            heard.push(event);
            got();
          },
        },
      },
    });
    const actor = createActor(machine).start();
    pipes.drawn.push({ runId: 'r', frameId: 0, ptsS: 0, arrivedAtMs: Date.now(), width: 16, height: 16, pixels: Buffer.alloc(384), times: {} });
    await failed;
    actor.stop();
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({ type: 'stage.failed', error: { retryable: false } });
    expect((heard[0] as unknown as { error: { message: string } }).error.message).toContain('font not found');
  });
});
