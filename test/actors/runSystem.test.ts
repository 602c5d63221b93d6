import { describe, expect, it, vi } from 'vitest';
import type { Detector } from '../../src/inference/detector.js';

/** The model load is replaced by a promise the test settles, so a stop can land while it is pending. */
const loads: { resolve(d: Detector): void }[] = [];
vi.mock('../../src/inference/detector.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/inference/detector.js')>()),
  createDetector: () => new Promise<Detector>((resolve) => loads.push({ resolve })),
}));

const { startRun } = await import('../../src/actors/runSystem.js');
const { RtspServer } = await import('../../src/io/rtsp/index.js');
const { configBodySchema } = await import('../../src/config/body.js');
const { defaultEncoderSettings } = await import('../../src/io/ffmpeg/encoder.js');
const { silentLogger } = await import('../../src/log.js');

describe('startRun', () => {
  it('a stop while the model loads leaves no mount behind once the load finishes', async () => {
    const server = new RtspServer({ host: '127.0.0.1', port: 0, logger: silentLogger });
    const run = startRun({
      runId: 'r1',
      clientId: 'c',
      name: 'early',
      source: { url: 'rtsp://127.0.0.1:1/none', transport: 'tcp', realtime: true },
      detector: { weightsPath: '/nonexistent.onnx', labels: ['person'], format: 'yolox' },
      config: configBodySchema.parse({}),
      output: { kind: 'embedded', server, mountPath: 'early' },
      encoder: defaultEncoderSettings,
      retry: { maxAttempts: 1, backoffInitialS: 1, backoffMaxS: 1 },
      connectTimeoutS: 5,
      stallTimeoutS: 5,
      logger: silentLogger,
    });
    const outcome = await run.stop('early stop');
    expect(outcome.state).toBe('stopped');
    expect(loads).toHaveLength(1);
    // The load the run started completes after the run has ended.
    loads[0]!.resolve({ labels: ['person'] } as unknown as Detector);
    await new Promise((r) => setImmediate(r));
    expect(server.getMount('early')).toBeUndefined();
  });
});
