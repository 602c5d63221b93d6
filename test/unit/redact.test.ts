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
