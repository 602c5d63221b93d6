import { afterAll, describe, expect, it } from 'vitest';
import { freePort, killAll, start } from '../helpers/processes.js';
import { LABELS, MODEL, PLAZA, SIE } from '../helpers/media.js';

afterAll(killAll);

/**
 * `sie run --push`: the annotated stream goes to an external RTSP server (MediaMTX in docker-compose). No
 * MediaMTX here, so the receiving end is ffmpeg itself in RTSP listen mode, which accepts one publisher
 * (ANNOUNCE + RECORD) exactly as MediaMTX does, and decodes what arrives.
 */
describe('sie run --push to an external RTSP server', () => {
  it('publishes the annotated H.264 stream by ANNOUNCE/RECORD', async () => {
    const camPort = await freePort();
    const cam = start(SIE, ['camera', PLAZA, '--port', String(camPort), '--mount', 'cam']);
    await cam.waitFor(/^camera: /m, 20_000);
    const sinkPort = await freePort();
    const receiver = start('ffmpeg', ['-hide_banner', '-rtsp_flags', 'listen', '-timeout', '30', '-i', `rtsp://127.0.0.1:${sinkPort}/live`,
      '-t', '4', '-f', 'null', '-', '-progress', 'pipe:1']);
    await new Promise((r) => setTimeout(r, 500)); // ffmpeg is listening
    const run = start(SIE, ['run', `rtsp://127.0.0.1:${camPort}/cam`, '--model', MODEL, '--labels', LABELS,
      '--push', `rtsp://127.0.0.1:${sinkPort}/live`, '--stats-interval', '1']);
    await run.waitFor(/^output: rtsp:\/\/127\.0\.0\.1:\d+\/live$/m, 20_000);
    const exit = await receiver.exited;
    expect(exit.code, receiver.stderr()).toBe(0);
    expect(receiver.stderr()).toMatch(/Stream #0:0: Video: h264.*768x576/);
    const frames = [...receiver.stdout().matchAll(/^frame=(\d+)/gm)].map((m) => Number(m[1]));
    expect(frames.at(-1)).toBeGreaterThanOrEqual(30); // 4 s at 10 fps
    run.child.kill('SIGINT');
    cam.child.kill('SIGTERM');
    await Promise.all([run.exited, cam.exited]);
  }, 90_000);
});
