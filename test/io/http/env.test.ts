import { describe, expect, it } from 'vitest';
import { apiEnvironment } from '../../../src/cli/apiEnv.js';
import { DEFAULT_MAX_MODEL_BYTES } from '../../../src/io/http/app.js';
import { runSie } from '../../helpers/media.js';

describe('the API environment', () => {
  it('defaults and accepts whole numbers of bytes', () => {
    expect(apiEnvironment({})).toEqual({ dataDir: './.sie', maxModelBytes: DEFAULT_MAX_MODEL_BYTES });
    expect(apiEnvironment({ SIE_MAX_MODEL_BYTES: ' 1048576 ', SIE_DATA_DIR: '/data' })).toEqual({ dataDir: '/data', maxModelBytes: 1_048_576 });
  });

  it.each(['1MB', '1e9', '0x10', '-5', '0', '1.5', '500 000', 'NaN'])('refuses SIE_MAX_MODEL_BYTES=%s, naming it', (v) => {
    expect(() => apiEnvironment({ SIE_MAX_MODEL_BYTES: v })).toThrow(new RegExp(`^environment: SIE_MAX_MODEL_BYTES=${JSON.stringify(v)}`));
  });

  it('SIE_RTSP_PUBLIC_URL: an rtsp:// base without credentials or path; anything else refused, naming it', () => {
    expect(apiEnvironment({ SIE_RTSP_PUBLIC_URL: 'rtsp://sie-engine.video.svc:8554' }).publicRtspUrl).toBe('rtsp://sie-engine.video.svc:8554');
    expect(apiEnvironment({ SIE_RTSP_PUBLIC_URL: '' })).not.toHaveProperty('publicRtspUrl');
    for (const bad of ['http://x:8554', 'rtsp://u:p@x:8554', 'rtsp://x:8554/live', 'sie-engine:8554']) {
      expect(() => apiEnvironment({ SIE_RTSP_PUBLIC_URL: bad }), bad).toThrow(/^environment: SIE_RTSP_PUBLIC_URL=.*: expected rtsp:\/\/host\[:port\]/);
    }
  });

  // Before: `sie serve` took Number("1MB") = NaN, started, and answered 500 to every upload.
  it.each([['serve', '--port', '0', '--rtsp-port', '0'], ['api', '--port', '0']])('sie %s exits 2 at start on SIE_MAX_MODEL_BYTES=1MB, saying why', async (...args) => {
    const r = await runSie(args, { SIE_MAX_MODEL_BYTES: '1MB' }, 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^sie: environment: SIE_MAX_MODEL_BYTES="1MB": expected a whole number of bytes/);
  });
});
