import { describe, expect, it } from 'vitest';
import { redactSecrets, redactText, secretsOfUrl } from '../../src/redact.js';

describe('redaction of credentials', () => {
  it.each([
    ['rtsp://admin:s3cret@10.0.0.5:554/stream', 'rtsp://admin:***@10.0.0.5:554/stream'],
    ['opening rtsps://u:p%40ss@cam/x failed', 'opening rtsps://u:***@cam/x failed'],
    ['postgres://postgres@127.0.0.1:5432/sie', 'postgres://postgres@127.0.0.1:5432/sie'],
    ['rtsp://:onlypass@cam/x', 'rtsp://:***@cam/x'],
    ['no url here', 'no url here'],
    ['two rtsp://a:b@h/1 and rtsp://c:d@h/2', 'two rtsp://a:***@h/1 and rtsp://c:***@h/2'],
  ])('%s', (input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it('scrubs a password that ffmpeg echoes outside a URL', () => {
    const secrets = secretsOfUrl('rtsp://viewer:Pa55%2Fword@cam/x');
    expect(secrets).toContain('Pa55/word');
    expect(redactSecrets('auth failed for Pa55/word', secrets)).toBe('auth failed for ***');
  });
});

describe('redactDeep', () => {
  it('redacts strings at any depth, in arrays and errors', async () => {
    const { redactDeep } = await import('../../src/redact.js');
    const out = JSON.stringify(
      redactDeep({ a: 'rtsp://u:pw1@h/x', b: { c: ['rtsp://u:pw2@h/y'], e: new Error('open rtsp://u:pw3@h/z failed') }, n: 3 }),
    );
    expect(out).not.toMatch(/pw[123]/);
    expect(out).toContain('rtsp://u:***@h/x');
    expect(out).toContain('"n":3');
  });

  it('reaches a logger line: nested fields are redacted in what pino writes', async () => {
    const { spawnSync } = await import('node:child_process');
    // The compiled logger (make test builds before the suite), writing to stderr as in production.
    const script = "import('./dist/log.js').then(({createLogger})=>createLogger({}).warn({ error: { message: 'rtsp://cam:hunter22@h/1' }, lines: ['rtsp://cam:hunter22@h/2'] }, 'x'))";
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('cam:***@h/1');
    expect(r.stderr).not.toContain('hunter22');
  });
});
