import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../../src/cli/args.js';
import { apiEnvironment } from '../../../src/cli/apiEnv.js';
import { engineEnvironment } from '../../../src/cli/engine.js';
import { openModelObjects } from '../../../src/cli/modelObjects.js';
import { DEFAULT_MODEL_S3_MIN_BYTES, modelS3FromEnv, S3ConfigError } from '../../../src/io/s3/config.js';

/** The S3 store's variables, checked once at start by the API and the engine. */
describe('SIE_MODEL_S3_URL and the S3 settings', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('are off unless SIE_MODEL_S3_URL is set (empty counts as unset)', () => {
    expect(modelS3FromEnv({})).toBeUndefined();
    expect(modelS3FromEnv({ SIE_MODEL_S3_URL: '  ', SIE_S3_REGION: 'eu-west-1' })).toBeUndefined();
    expect(apiEnvironment({}).modelS3).toBeUndefined();
    expect(engineEnvironment({}).modelS3).toBeUndefined();
  });

  it('default to AWS S3 in us-east-1, virtual-hosted, 64 MiB and up; path style with an endpoint', () => {
    expect(modelS3FromEnv({ SIE_MODEL_S3_URL: 's3://sie-models' })).toEqual({
      bucket: 'sie-models',
      prefix: '',
      region: 'us-east-1',
      forcePathStyle: false,
      minBytes: DEFAULT_MODEL_S3_MIN_BYTES,
    });
    expect(DEFAULT_MODEL_S3_MIN_BYTES).toBe(64 * 1024 * 1024);
    const minio = { SIE_MODEL_S3_URL: 's3://sie-models/prod/weights/', SIE_S3_ENDPOINT: 'http://minio:9000/', SIE_MODEL_S3_MIN_BYTES: '0' };
    expect(apiEnvironment(minio).modelS3).toEqual({
      bucket: 'sie-models',
      prefix: 'prod/weights',
      endpoint: 'http://minio:9000',
      region: 'us-east-1',
      forcePathStyle: true,
      minBytes: 0,
    });
    expect(engineEnvironment({ ...minio, SIE_S3_FORCE_PATH_STYLE: 'false', SIE_S3_REGION: 'eu-central-1' }).modelS3).toMatchObject({
      forcePathStyle: false,
      region: 'eu-central-1',
    });
  });

  it.each([
    ['SIE_MODEL_S3_URL', 'http://bucket/x', /SIE_MODEL_S3_URL: expected s3:\/\/BUCKET/],
    ['SIE_MODEL_S3_URL', 's3://Bad_Bucket', /SIE_MODEL_S3_URL: the bucket must be/],
    ['SIE_MODEL_S3_URL', 's3://sie-models/a/../b', /SIE_MODEL_S3_URL: the prefix must be plain/],
    ['SIE_S3_ENDPOINT', 'minio:9000', /SIE_S3_ENDPOINT: expected http/],
    ['SIE_S3_ENDPOINT', 'http://minio:9000/bucket', /SIE_S3_ENDPOINT: .*without a path/],
    ['SIE_S3_FORCE_PATH_STYLE', 'yes', /SIE_S3_FORCE_PATH_STYLE="yes": expected true or false/],
    ['SIE_S3_REGION', 'EU West', /SIE_S3_REGION="EU West": expected a region/],
    ['SIE_MODEL_S3_MIN_BYTES', '64MB', /SIE_MODEL_S3_MIN_BYTES="64MB": expected a whole number of bytes/],
    ['SIE_MODEL_S3_MIN_BYTES', '-1', /SIE_MODEL_S3_MIN_BYTES="-1": expected a whole number of bytes/],
  ])('%s=%s stops the API and the engine naming the variable', (name, value, message) => {
    const env = { SIE_MODEL_S3_URL: 's3://sie-models', [name]: value };
    expect(() => modelS3FromEnv(env)).toThrow(S3ConfigError);
    for (const read of [apiEnvironment, engineEnvironment]) {
      expect(() => read(env)).toThrow(UsageError);
      expect(() => read(env)).toThrow(message);
    }
  });

  it('checks the other variables even while the store is off', () => {
    expect(() => apiEnvironment({ SIE_MODEL_S3_MIN_BYTES: '1e9' })).toThrow(/SIE_MODEL_S3_MIN_BYTES/);
  });

  it.each([
    ['SIE_S3_ENDPOINT', 'http://AKIAEXAMPLE:hunter2secret@minio:9000'],
    ['SIE_S3_ENDPOINT', 'https://user@s3.example'],
    ['SIE_MODEL_S3_URL', 's3://AKIAEXAMPLE:hunter2secret@sie-models/x'],
  ])('%s with credentials in it is refused, pointing at the SDK chain, without quoting it', (name, value) => {
    const env = { SIE_MODEL_S3_URL: 's3://sie-models', [name]: value };
    let message = '';
    try {
      apiEnvironment(env);
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      message = (err as Error).message;
    }
    expect(message).toContain(`${name}: must not carry credentials`);
    expect(message).toContain('AWS_ACCESS_KEY_ID');
    expect(message).not.toContain('hunter2secret');
    expect(message).not.toContain('AKIAEXAMPLE');
  });

  it("the API's start line names the store and the threshold, never the credentials in the environment", async () => {
    const secret = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY';
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAIOSFODNN7EXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', secret);
    const lines: string[] = [];
    const logger = pino(
      { level: 'trace' },
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          lines.push(chunk.toString());
          cb();
        },
      }),
    );
    const config = modelS3FromEnv({ SIE_MODEL_S3_URL: 's3://sie-models/w', SIE_S3_ENDPOINT: 'http://127.0.0.1:9' })!;
    const objects = await openModelObjects(config, logger);
    objects?.close();
    const start = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.store !== undefined);
    expect(start).toEqual([expect.objectContaining({ store: 's3://sie-models/w at http://127.0.0.1:9', minBytes: DEFAULT_MODEL_S3_MIN_BYTES })]);
    expect(lines.join('')).not.toContain(secret);
    expect(lines.join('')).not.toContain('AKIAIOSFODNN7EXAMPLE');
  });
});
