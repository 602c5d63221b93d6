import type { S3Client } from '@aws-sdk/client-s3';
import { silentLogger, type Logger } from '../../log.js';
import type { ModelS3Config } from './config.js';

/** The SDK's modules, loaded by createS3Client: every other command (and every install without S3) skips them. */
export type S3Sdk = typeof import('@aws-sdk/client-s3');
export type S3Storage = typeof import('@aws-sdk/lib-storage');

export interface S3Handle {
  readonly client: S3Client;
  readonly sdk: S3Sdk;
  readonly storage: S3Storage;
}

/** A connection that does not open in this time is a failed attempt (the SDK tries 3 times in all). */
export const S3_CONNECT_TIMEOUT_MS = 5_000;
/**
 * A socket silent this long is dead: a hung upload answers 503 and a hung download is a failed fetch
 * (retried by the model cache) instead of waiting for ever. An idle timeout, not a total one: a 400 MB model
 * on a slow link may take minutes, and only silence is a fault.
 */
export const S3_SOCKET_TIMEOUT_MS = 30_000;

/**
 * An S3 client for the model store. The SDK is imported here, on first use, not at module load: it is
 * large, and the commands that never touch S3 (and installs that do not configure it) do not pay for it.
 * Credentials: the SDK's default chain only (nothing here names one). Checksums only where S3 requires
 * them: the SDK's default CRC32 trailers are not understood by every S3-compatible server (s3rver, older
 * MinIO); the weights are verified by their sha256 on both ends anyway. Retries: the SDK's standard 3
 * attempts with backoff, so a passing error costs a second, not the upload.
 */
export async function createS3Client(config: ModelS3Config, logger: Logger = silentLogger): Promise<S3Handle> {
  quietNodeVersionWarning(logger);
  const [sdk, storage] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]);
  const client = new sdk.S3Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    forcePathStyle: config.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    requestHandler: { connectionTimeout: S3_CONNECT_TIMEOUT_MS, socketTimeout: S3_SOCKET_TIMEOUT_MS },
  });
  return { client, sdk, storage };
}

/**
 * The SDK prints a multi-line NodeVersionSupportWarning on stderr when a client is made under Node < 22 (the
 * Dockerfile's node:20): plain text among the JSON log lines, which breaks whoever parses them. Its own
 * switch turns it off (unless the operator set it either way), and the notice goes to the log as one line.
 */
function quietNodeVersionWarning(logger: Logger): void {
  const SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
  if (process.env[SWITCH] !== undefined) return;
  process.env[SWITCH] = 'true';
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) logger.warn({ node: process.versions.node }, 'model store: AWS SDK releases after early 2027 need Node 22 or later');
}
