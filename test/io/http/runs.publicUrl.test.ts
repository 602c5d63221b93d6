import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConfig, insertModelRow, startApi, type Harness } from './harness.js';

/** With SIE_RTSP_PUBLIC_URL the API names every run's stream by that base (a Service), not by its engine. */
let h: Harness;
let configId: string;

beforeAll(async () => {
  h = await startApi({ publicRtspUrl: 'rtsp://sie-engine.video.svc:8554/' });
  configId = (await createConfig(h.app, { client_id: 'acme', model_id: await insertModelRow(h.db.pool) })).id;
});
afterAll(() => h.close());

describe('output_url with a public RTSP base', () => {
  it('is the base and the mount once claimed, the same whichever engine holds it; engine_output_url is the holder', async () => {
    const r = await h.app.inject({ method: 'POST', url: '/v1/runs', payload: { client_id: 'acme', config_id: configId, source_url: 'rtsp://cam.local/1', output: { mount: 'lobby/cam-1' } } });
    expect(r.json()).toMatchObject({ output_url: null, engine_output_url: null });
    const id = r.json().id as string;
    for (const engine of ['10.1.0.7', '10.1.0.9']) {
      // An engine claims it (as the claim statement writes it): its own address.
      await h.db.pool.query(`UPDATE runs SET state = 'running', output_url = $2 WHERE id = $1`, [id, `rtsp://${engine}:8554/lobby/cam-1`]);
      const run = (await h.app.inject(`/v1/runs/${id}`)).json();
      expect(run).toMatchObject({ output_url: 'rtsp://sie-engine.video.svc:8554/lobby/cam-1', engine_output_url: `rtsp://${engine}:8554/lobby/cam-1` });
    }
    const list = (await h.app.inject('/v1/runs?client_id=acme')).json() as Array<{ id: string; output_url: string }>;
    expect(list.find((x) => x.id === id)!.output_url).toBe('rtsp://sie-engine.video.svc:8554/lobby/cam-1');
  });
});
