import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { engineEnvironment } from '../../src/cli/engine.js';
import { DEFAULT_MODEL_CACHE_MAX_BYTES } from '../../src/models/modelCache.js';

describe('the model cache settings of `sie engine`', () => {
  it('default to SIE_DATA_DIR/model-cache and 4 GiB', () => {
    const env = engineEnvironment({ SIE_DATA_DIR: '/srv/sie' });
    expect(env.modelCacheDir).toBe('/srv/sie/model-cache');
    expect(env.modelCacheMaxBytes).toBe(DEFAULT_MODEL_CACHE_MAX_BYTES);
    expect(DEFAULT_MODEL_CACHE_MAX_BYTES).toBe(4 * 1024 ** 3);
  });

  it('SIE_MODEL_CACHE_DIR (resolved) and SIE_MODEL_CACHE_MAX_BYTES override them', () => {
    const env = engineEnvironment({ SIE_DATA_DIR: '/srv/sie', SIE_MODEL_CACHE_DIR: 'cache', SIE_MODEL_CACHE_MAX_BYTES: ' 1000000 ' });
    expect(env.modelCacheDir).toBe(resolve('cache'));
    expect(env.modelCacheMaxBytes).toBe(1_000_000);
    expect(engineEnvironment({}).modelCacheDir).toBe(join(resolve('.sie'), 'model-cache'));
  });

  it.each(['4GB', '1e9', '0', '-1', '0x10'])('SIE_MODEL_CACHE_MAX_BYTES=%s stops the engine with the variable named', (v) => {
    expect(() => engineEnvironment({ SIE_MODEL_CACHE_MAX_BYTES: v })).toThrow(UsageError);
    expect(() => engineEnvironment({ SIE_MODEL_CACHE_MAX_BYTES: v })).toThrow(/SIE_MODEL_CACHE_MAX_BYTES=.*whole number of bytes/);
  });
});
