import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { startCamera } from '../helpers/cameras.js';
import { freePort, killAll, start } from '../helpers/processes.js';
import { LABELS, MODEL, SIE, progressFrames } from '../helpers/media.js';

afterAll(killAll);

/** Waits until something LISTENs on 127.0.0.1:port (read from /proc/net/tcp: no connection is made). */
async function listeningOn(port: number, timeoutMs = 30_000): Promise<void> {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const t0 = Date.now();
  // Columns: sl local_address rem_address st …; st 0A = LISTEN.
  while (!readFileSync('/proc/net/tcp', 'utf8').split('\n').some((l) => l.trim().split(/\s+/)[1]?.endsWith(`:${hex}`) && l.trim().split(/\s+/)[3] === '0A')) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`nothing listening on port ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * `sie run --push`: the annotated stream goes to an external RTSP server (MediaMTX in docker-compose). No
 * MediaMTX here, so the receiving end is ffmpeg itself in RTSP listen mode, which accepts one publisher
 * (ANNOUNCE + RECORD) exactly as MediaMTX does, and decodes what arrives.
 */
describe('sie run --push to an external RTSP server', () => {
  it('publishes the annotated H.264 stream by ANNOUNCE/RECORD', async () => {
    const camPort = await freePort();
    const cam = await startCamera(camPort);
    const sinkPort = await freePort();
    const receiver = start('ffmpeg', ['-hide_banner', '-rtsp_flags', 'listen', '-timeout', '30', '-i', `rtsp://127.0.0.1:${sinkPort}/live`,
      '-t', '4', '-f', 'null', '-', '-progress', 'pipe:1']);
    await listeningOn(sinkPort); // ffmpeg is listening (checked without connecting: it accepts one client only)
    const run = start(SIE, ['run', `rtsp://127.0.0.1:${camPort}/cam`, '--model', MODEL, '--labels', LABELS,
      '--push', `rtsp://127.0.0.1:${sinkPort}/live`, '--stats-interval', '1']);
    await run.waitFor(/^output: rtsp:\/\/127\.0\.0\.1:\d+\/live$/m, 20_000);
    const exit = await receiver.exited;
    expect(exit.code, receiver.stderr()).toBe(0);
    expect(receiver.stderr()).toMatch(/Stream #0:0: Video: h264.*768x576/);
    // 4 s of stream time: ffmpeg #2 numbers pictures by arrival, so that is 40 pictures however loaded we are.
    expect(progressFrames(receiver.stdout())).toBeGreaterThanOrEqual(30);
    run.child.kill('SIGINT');
    cam.child.kill('SIGTERM');
    await Promise.all([run.exited, cam.exited]);
  }, 90_000);
});
