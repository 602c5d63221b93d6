import { describe, expect, it, vi } from 'vitest';
import { createActor, setup, type EventObject } from 'xstate';

/** The slate's fonts cannot be prepared (sharp or the font missing): the publisher must say so, not crash. */
vi.mock('../../src/drawing/slate.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/drawing/slate.js')>()),
  prepareSlate: () => Promise.reject(new Error('font not found')),
}));

const { createPublisherActor } = await import('../../src/actors/publisher.js');
const { createRunStore } = await import('../../src/pipeline/runStore.js');
const { DropOldestQueue } = await import('../../src/queue.js');
const { testFrame, DEFAULT_APPLIED_CONFIG } = await import('../helpers/frames.js');
const { defaultEncoderSettings } = await import('../../src/io/ffmpeg/encoder.js');
const { silentLogger } = await import('../../src/log.js');

describe('publisher actor', () => {
  it('a failure before ffmpeg #2 starts ends the run with stage.failed (not an unhandled rejection)', async () => {
    const input = new DropOldestQueue<ReturnType<typeof testFrame>>(2);
    const store = createRunStore({ config: DEFAULT_APPLIED_CONFIG.body, source: { info: { codec: 'h264', width: 16, height: 16, fps: 25 } } });
    const heard: EventObject[] = [];
    let got!: () => void;
    const failed = new Promise<void>((r) => (got = r));
    const machine = setup({
      actors: {
        publisher: createPublisherActor({
          input,
          store,
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
    input.push(testFrame({ frameId: 0, width: 16, height: 16 }));
    await failed;
    actor.stop();
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({ type: 'stage.failed', error: { retryable: false } });
    expect((heard[0] as unknown as { error: { message: string } }).error.message).toContain('font not found');
  });
});
