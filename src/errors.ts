/**
 * Named errors. Each says whether retrying could help, and maps onto the run's persisted error kind.
 */
export type ErrorKind =
  | 'source_unreachable'
  | 'source_lost'
  | 'source_invalid'
  | 'model_error'
  | 'config_invalid'
  | 'internal_error';

export abstract class SieError extends Error {
  abstract readonly kind: ErrorKind;
  abstract readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The source could not be opened (refused, timed out, 404, bad credentials). */
export class SourceUnreachableError extends SieError {
  readonly kind = 'source_unreachable';
  readonly retryable = true;
}

/** The source was up and went away (ffmpeg exited, or no frame for the stall timeout). */
export class SourceLostError extends SieError {
  readonly kind = 'source_lost';
  readonly retryable = true;
}

/** The source answers but is not video we can use (no video stream, unknown size). */
export class SourceInvalidError extends SieError {
  readonly kind = 'source_invalid';
  readonly retryable = false;
}

export class ModelError extends SieError {
  readonly kind = 'model_error';
  readonly retryable = false;
}

export class ConfigInvalidError extends SieError {
  readonly kind = 'config_invalid';
  readonly retryable = false;
}

export class InternalError extends SieError {
  readonly kind = 'internal_error';
  readonly retryable = false;
}

/** Normalise anything thrown into a SieError; unknown throws are our bug, so internal and final. */
export function coerceError(err: unknown): SieError {
  if (err instanceof SieError) return err;
  if (err instanceof Error) return new InternalError(err.message, { cause: err });
  return new InternalError(String(err));
}
