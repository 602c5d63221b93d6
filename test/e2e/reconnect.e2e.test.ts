import { afterAll, describe, expect, it } from 'vitest';
import { startCamera } from '../helpers/cameras.js';
import { freePort, killAll, start } from '../helpers/processes.js';
import { LABELS, MODEL, SIE, grabFrame } from '../helpers/media.js';

afterAll(killAll);

function meanLuma(frame: Buffer, w: number, h: number): number {
  let sum = 0;
  for (let i = 0; i < w * h; i += 7) sum += frame[i]!;
  return sum / Math.ceil((w * h) / 7);
}

describe('a camera that goes away and comes back', () => {
  it('retries, shows the slate meanwhile on the same output stream, and returns to running', async () => {
    const camPort = await freePort();
    const outPort = await freePort();
    let cam = await startCamera(camPort);
    const run = start(SIE, ['run', `rtsp://127.0.0.1:${camPort}/cam`, '--model', MODEL, '--labels', LABELS,
      '--port', String(outPort), '--stats-interval', '0.5', '--stall-timeout', '2', '--retries', '20']);
    await run.waitFor(/state=running/, 30_000);
    const url = `rtsp://127.0.0.1:${outPort}/live`;
    const live = await grabFrame(url, 768, 576, 5);
    const liveLuma = meanLuma(live, 768, 576);

    cam.child.kill('SIGTERM');
    await cam.exited;
    // The source is gone: the status line says the run is stalled (not blocked downstream).
    await run.waitFor(/state=retrying flow=stalled /, 15_000);
    // The output keeps going: a reader connecting now gets the dimmed "signal lost" slate.
    const slate = await grabFrame(url, 768, 576, 25);
    expect(meanLuma(slate, 768, 576)).toBeLessThan(liveLuma * 0.6);
    expect(run.stdout()).toMatch(/status: .*slate=[1-9]/);

    cam = await startCamera(camPort);
    const before = run.stdout().length;
    await run.waitFor(/state=running flow=(flowing|blocked\(\w+\)) .*reconnects=[1-9]/, 40_000);
    expect(run.stdout().slice(before)).toMatch(/state=running/);
    const back = await grabFrame(url, 768, 576, 25);
    expect(meanLuma(back, 768, 576)).toBeGreaterThan(liveLuma * 0.8);
    run.child.kill('SIGINT');
    expect((await run.exited).code).toBe(0);
    cam.child.kill('SIGTERM');
    await cam.exited;
  }, 120_000);
});
