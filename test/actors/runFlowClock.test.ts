import { afterEach, describe, expect, it, vi } from 'vitest';
import { startRun } from '../../src/actors/runSystem.js';
import { RtspServer } from '../../src/io/rtsp/index.js';
import { configBodySchema } from '../../src/config/body.js';
import { defaultEncoderSettings } from '../../src/io/ffmpeg/encoder.js';
import { silentLogger } from '../../src/log.js';
import { LABELS, MODEL, PLAZA } from '../helpers/media.js';
import { until } from '../helpers/processes.js';

/**
 * A run's flow reading compares the last frame's arrival (the monotonic clock placed on the epoch at
 * start, preciseNowMs) with "now": both must be that clock. The wall clock can step away from it (NTP
 * correcting a clock after boot, a VM resumed or migrated); a flowing run must still read flowing.
 */
afterEach(() => {
  vi.restoreAllMocks();
});

describe('flow reading of a live run', () => {
  it('never reads stalled, and stays connected, when the wall clock steps a minute ahead', async () => {
    const server = new RtspServer({ host: '127.0.0.1', port: 0, logger: silentLogger });
    await server.listen();
    const run = startRun({
      runId: 'clock',
      clientId: 'c',
      name: 'clock',
      source: { url: PLAZA, transport: 'tcp', realtime: true },
      detector: { weightsPath: MODEL, labels: LABELS, format: 'yolox' },
      config: configBodySchema.parse({}),
      output: { kind: 'embedded', server, mountPath: 'clock' },
      encoder: defaultEncoderSettings,
      retry: { maxAttempts: 0, backoffInitialS: 1, backoffMaxS: 1 },
      connectTimeoutS: 10,
      stallTimeoutS: 10,
      logger: silentLogger,
    });
    try {
      await until(() => run.flow().state === 'flowing', 30_000, 'flowing');
      const wall = Date.now.bind(Date);
      // The wall clock steps a minute ahead at every reading: the decoder's stall watchdog (every 250 ms)
      // would see more than stallTimeoutS since the last frame at each tick if it read it.
      let steps = 0;
      vi.spyOn(Date, 'now').mockImplementation(() => wall() + 60_000 * ++steps);
      // Two samples (one a second) on the stepped wall clock.
      await new Promise((r) => setTimeout(r, 2500));
      expect(run.state()).toBe('running');
      expect(run.stats.reconnects).toBe(0);
      // Not stalled (what a wall-clock reading would say); `blocked` is a fair reading on a loaded machine.
      expect(run.flow().state).not.toBe('stalled');
    } finally {
      vi.restoreAllMocks();
      await run.stop('test');
      await server.close();
    }
  }, 60_000);
});
