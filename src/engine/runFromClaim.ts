import { join } from 'node:path';
import { configBodySchema, type ConfigBody } from '../config/body.js';
import { describeZodError } from '../config/zodError.js';
import { ConfigInvalidError } from '../errors.js';
import { resolveMediaFile } from '../io/mediaRoot.js';
import type { ClaimedRun } from '../io/db/sql/claimRuns.js';
import type { SourceSpec } from '../io/ffmpeg/decoder.js';
import type { DetectorOptions } from '../inference/detector.js';
import type { ModelFormat } from '../inference/modelSpec.js';
import type { RetryPolicy } from '../machines/run.machine.js';

/**
 * `file:///x.mp4` and plain absolute paths are file sources (read at their own rate, end `completed`),
 * allowed only below the engine's media root and opened by their real path (a row may come from plain
 * SQL, so the API's check is not enough). Anything else ffmpeg could open (`concat:`, `http:`, `pipe:`)
 * is refused.
 */
export function sourceFromUrl(url: string, mediaRoot: string | undefined): SourceSpec {
  if (/^rtsps?:\/\//i.test(url)) return { url, transport: 'tcp', realtime: true };
  if (!url.startsWith('file://') && !url.startsWith('/')) {
    throw new ConfigInvalidError('source_url: expected rtsp://, rtsps:// or file:///absolute/path');
  }
  try {
    return { url: resolveMediaFile(mediaRoot, url), transport: 'tcp', realtime: true };
  } catch (err) {
    throw new ConfigInvalidError(`source_url: ${(err as Error).message}`, { cause: err });
  }
}

export interface RunSettingsFromClaim {
  source: SourceSpec;
  config: ConfigBody;
  detector: DetectorOptions;
  retry: RetryPolicy;
  connectTimeoutS: number;
}

/**
 * Turns a claimed row into run settings; the stored config is parsed again (a row may come from SQL).
 * `mediaRoot`: real path of the directory file sources must be under; undefined = no file sources.
 */
export function runSettingsFromClaim(row: ClaimedRun, dataDir: string, mediaRoot?: string): RunSettingsFromClaim {
  const parsed = configBodySchema.safeParse(row.body);
  if (!parsed.success) throw new ConfigInvalidError(`config ${row.config_id} v${row.config_version}: ${describeZodError(parsed.error)}`);
  return {
    source: sourceFromUrl(row.source_url, mediaRoot),
    config: parsed.data,
    detector: {
      weightsPath: join(dataDir, row.model_file_path),
      labels: row.model_labels,
      format: row.model_format as ModelFormat,
      warmup: true,
    },
    retry: {
      maxAttempts: row.retry_max_attempts,
      backoffInitialS: row.retry_backoff_initial_s,
      backoffMaxS: row.retry_backoff_max_s,
    },
    connectTimeoutS: row.connect_timeout_s,
  };
}
