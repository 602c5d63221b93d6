import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '../../src/actors/runSystem.js';
import { replay } from '../../src/replay/replay.js';
import { RtspServer } from '../../src/io/rtsp/index.js';
import { loadConfigFile } from '../../src/config/file.js';
import { defaultEncoderSettings } from '../../src/io/ffmpeg/encoder.js';
import { silentLogger } from '../../src/log.js';
import type { RuleEvent } from '../../src/rules/index.js';
import { LABELS, MODEL, PLAZA } from '../helpers/media.js';
import { runToEnd } from '../helpers/processes.js';

/** What the rules decided, without what names the run or the wall clock (ids, run and client, time). */
const decisions = (events: RuleEvent[]) => events.map(({ id: _id, run_id: _run, client_id: _client, time: _time, ...rest }) => rest);

let dir: string;
let clip: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sie-live-replay-'));
  // 15 s of the plaza at 10 fps: crossings at frames 26, 61 and 104, the parked vehicles' dwell at 5 s.
  clip = join(dir, 'plaza15.mp4');
  expect((await runToEnd('ffmpeg', ['-v', 'error', '-i', PLAZA, '-t', '15', '-c', 'copy', clip])).code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('one pipeline', () => {
  it('a live run from a file and a replay of it emit the same events when no frame was dropped', async () => {
    const { body: config } = await loadConfigFile('test/fixtures/plaza-rules.json');
    const detector = { weightsPath: MODEL, labels: LABELS, format: 'yolox' as const };

    const replayed = await replay({ video: clip, detector, config, name: 'plaza', logger: silentLogger });

    const server = new RtspServer({ host: '127.0.0.1', port: 0, logger: silentLogger });
    await server.listen();
    const live: RuleEvent[] = [];
    try {
      const run = startRun({
        runId: 'live',
        clientId: 'c',
        name: 'plaza',
        source: { url: clip, transport: 'tcp', realtime: true },
        detector,
        config,
        onEvents: (events) => live.push(...events),
        output: { kind: 'embedded', server, mountPath: 'plaza' },
        encoder: defaultEncoderSettings,
        retry: { maxAttempts: 0, backoffInitialS: 1, backoffMaxS: 1 },
        connectTimeoutS: 10,
        stallTimeoutS: 10,
        logger: silentLogger,
      });
      const outcome = await run.done;
      expect(outcome).toEqual({ state: 'completed', error: null });
      const stats = run.stats;
      // The comparison holds only for a run whose rules saw every frame: at 10 fps of 768x576 a live run keeps
      // up. (The output may still replace a frame at a tick, e.g. while ffmpeg #2 starts: no rule sees that.)
      expect(stats.droppedBeforeInference + stats.droppedBeforeRules, JSON.stringify(stats)).toBe(0);
      expect(stats.framesIn).toBe(replayed.frames);
      expect(stats.framesInferred).toBe(replayed.detectedFrames);
      expect(stats.framesDrawn, 'every frame went through before the run completed').toBe(replayed.frames);
    } finally {
      await server.close();
    }
    expect(replayed.events.length).toBeGreaterThanOrEqual(5);
    expect(decisions(live)).toEqual(decisions(replayed.events));
  }, 90_000);
});
