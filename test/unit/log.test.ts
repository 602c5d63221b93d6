import { describe, expect, it } from 'vitest';
import { logFormat } from '../../src/log.js';
import { runToEnd } from '../helpers/processes.js';

/** Logs a few lines from a child process with dist/log.js (the logger writes to fd 2): its stderr. */
async function logged(env: Record<string, string>, script: string): Promise<string> {
  const code = `import { createLogger } from './dist/log.js'; const log = createLogger({ cmd: 't' }); ${script}`;
  const r = await runToEnd(process.execPath, ['--input-type=module', '-e', code], 20_000, env);
  expect(r.code, r.stderr).toBe(0);
  return r.stderr;
}

describe('log format', () => {
  it('pretty on a terminal, JSON otherwise, unless SIE_LOG_FORMAT says', () => {
    expect(logFormat({}, true)).toBe('pretty');
    expect(logFormat({}, false)).toBe('json');
    expect(logFormat({ SIE_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat({ SIE_LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
    expect(() => logFormat({ SIE_LOG_FORMAT: 'xml' }, true)).toThrow(/^SIE_LOG_FORMAT: expected json or pretty, got "xml"$/);
  });

  it('pretty: one readable line per entry, time and level first, secrets redacted', async () => {
    const out = await logged({ SIE_LOG_FORMAT: 'pretty' }, `log.info({ source: 'rtsp://cam:s3cret@10.0.0.7/live' }, 'source stream'); log.warn('retrying rtsp://cam:s3cret@10.0.0.7/live');`);
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: source stream .*"source":"rtsp:\/\/cam:\*\*\*@10\.0\.0\.7\/live"/);
    expect(lines[1]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: retrying rtsp:\/\/cam:\*\*\*@10\.0\.0\.7\/live/);
    expect(out).not.toContain('s3cret');
  });

  it('JSON when not a terminal; a request log line says method, URL (redacted) and status', async () => {
    const out = await logged(
      {},
      `log.info({ req: { method: 'GET', url: '/v1/runs?source=rtsp://u:s3cret@h/x', ip: '127.0.0.1', headers: { cookie: 'c' } } }, 'incoming request');
       log.info({ res: { statusCode: 404, getHeaders() {} }, responseTime: 1.5 }, 'request completed');`,
    );
    const [a, b] = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(a).toMatchObject({ level: 30, cmd: 't', msg: 'incoming request', req: { method: 'GET', url: '/v1/runs?source=rtsp://u:***@h/x', remoteAddress: '127.0.0.1' } });
    expect(a!.req).not.toHaveProperty('headers');
    expect(b).toMatchObject({ msg: 'request completed', res: { statusCode: 404 } });
    expect(out).not.toContain('s3cret');
  });
});
