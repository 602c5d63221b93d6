import { describe, expect, it } from 'vitest';
import { ConfigInvalidError, SieError, SourceLostError, coerceError, toRunError } from '../../src/errors.js';
import { RtspParseError, RtspStatusError } from '../../src/io/rtsp/errors.js';

describe('toRunError: the one way a thrown thing becomes what a run records', () => {
  it('keeps a named error’s kind and retryable', () => {
    expect(toRunError(new SourceLostError('gone'))).toEqual({ kind: 'source_lost', message: 'gone', retryable: true });
    expect(toRunError(new ConfigInvalidError('bad'))).toEqual({ kind: 'config_invalid', message: 'bad', retryable: false });
  });

  it('a stage names itself; a final error is never retryable, whatever its kind', () => {
    expect(toRunError(new SourceLostError('gone'), { stage: 'drawing', final: true })).toEqual({ kind: 'source_lost', message: 'drawing: gone', retryable: false });
  });

  it('passes a RunError on unchanged, and treats anything else as our bug (internal, final)', () => {
    const recorded = { kind: 'model_error', message: 'no session', retryable: false };
    expect(toRunError(recorded)).toEqual(recorded);
    expect(toRunError({ kind: 'bogus', message: 'x', retryable: true })).toMatchObject({ kind: 'internal_error', retryable: false });
    expect(toRunError(new TypeError('undefined is not a function'))).toEqual({ kind: 'internal_error', message: 'undefined is not a function', retryable: false });
    expect(toRunError('a string')).toEqual({ kind: 'internal_error', message: 'a string', retryable: false });
  });
});

describe('RTSP client errors have their own base', () => {
  it('a reply status or a parse error is not a run error; one that escapes becomes internal', () => {
    const notFound = new RtspStatusError(404, 'no mount live');
    expect(notFound).not.toBeInstanceOf(SieError);
    expect(notFound).toMatchObject({ kind: 'rtsp_client', retryable: false, status: 404, name: 'RtspStatusError' });
    expect(new RtspParseError('not RTSP')).toMatchObject({ kind: 'rtsp_client', name: 'RtspParseError' });
    expect(coerceError(notFound).kind).toBe('internal_error');
  });
});
