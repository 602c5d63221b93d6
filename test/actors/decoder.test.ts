import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assign, createActor, setup, type EventObject } from 'xstate';
import { createDecoderActor } from '../../src/actors/decoder.js';
import { newStopTracker } from '../../src/actors/stopTracker.js';
import { createRunStore, type SourceState } from '../../src/pipeline/runStore.js';
import { DropOldestQueue } from '../../src/queue.js';
import { configBodySchema } from '../../src/config/body.js';
import { silentLogger } from '../../src/log.js';
import { fakeFfmpeg } from '../helpers/fakeFfmpeg.js';

/** A stand-in ffmpeg that opens the source and finds no decodable video (a camera booting up). */
const fake = fakeFfmpeg('decoder-actor', {
  ffmpeg: ["printf 'rtsp://127.0.0.1:9/cam: Invalid data found when processing input\\n' >&2", 'exit 1'],
});
beforeAll(fake.install);
afterAll(fake.restore);

/** Runs the decoder actor under a parent that records what it sends back. */
async function failureOf(source: Partial<SourceState>): Promise<{ kind: string; retryable: boolean }> {
  const decoder = createDecoderActor({
    runId: 'r',
    source: { url: 'rtsp://127.0.0.1:9/cam', transport: 'tcp', realtime: true },
    output: new DropOldestQueue(2),
    store: createRunStore({ config: configBodySchema.parse({}), source }),
    logger: silentLogger,
    stallTimeoutS: 5,
    ioTimeoutS: 5,
    track: newStopTracker().track,
  });
  const parent = setup({ actors: { decoder }, types: { context: {} as { got: EventObject[] } } }).createMachine({
    context: { got: [] },
    invoke: { src: 'decoder' },
    on: { '*': { actions: assign({ got: ({ context, event }) => [...context.got, event] }) } },
  });
  const actor = createActor(parent).start();
  const t0 = Date.now();
  while (actor.getSnapshot().context.got.length === 0) {
    if (Date.now() - t0 > 10_000) throw new Error('decoder actor sent nothing');
    await new Promise((r) => setTimeout(r, 20));
  }
  actor.stop();
  return (actor.getSnapshot().context.got[0] as unknown as { error: { kind: string; retryable: boolean } }).error;
}

describe('decoder actor', () => {
  it('no decodable video at the first connection is final (source_invalid)', async () => {
    expect(await failureOf({ info: undefined, nextFrameId: 0 })).toEqual(expect.objectContaining({ kind: 'source_invalid', retryable: false }));
  });

  it('the same answer on a reconnect is an outage to retry (source_lost)', async () => {
    const info = { codec: 'h264', width: 768, height: 576, fps: 10 };
    expect(await failureOf({ info, nextFrameId: 100 })).toEqual(expect.objectContaining({ kind: 'source_lost', retryable: true }));
  });
});
