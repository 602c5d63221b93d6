/**
 * Named errors. Each says whether retrying could help, and maps onto the run's persisted error kind.
 */
export const ERROR_KINDS = ['source_unreachable', 'source_lost', 'source_invalid', 'model_error', 'config_invalid', 'internal_error'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** What a run records of an error (machine context, transitions, the API): plain data, no stack. */
export interface RunError {
  kind: ErrorKind;
  message: string;
  retryable: boolean;
}

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
  readonly retryable: boolean = false;
}

/**
 * The weights could not be fetched (PostgreSQL or the S3 store unreachable, every try of the model cache
 * broken off): not the model's fault, so the run loads it again after its backoff, as a lost source is
 * reconnected, instead of failing for good during an outage of the store.
 */
export class ModelFetchError extends ModelError {
  override readonly retryable: boolean = true;
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

const isErrorKind = (k: unknown): k is ErrorKind => (ERROR_KINDS as readonly unknown[]).includes(k);

/**
 * The one way anything thrown becomes a RunError. A RunError already (an actor's error passed on) stays as it
 * is; everything else goes through coerceError. `stage` prefixes the message with where it happened; `final`
 * marks an error that ended the run whatever its kind (a stage failure is never retried).
 */
export function toRunError(err: unknown, opts: { stage?: string; final?: boolean } = {}): RunError {
  let base: RunError;
  if (isRunError(err)) base = { kind: err.kind, message: String(err.message), retryable: Boolean(err.retryable) };
  else {
    const e = coerceError(err);
    base = { kind: e.kind, message: e.message, retryable: e.retryable };
  }
  return {
    kind: base.kind,
    message: opts.stage ? `${opts.stage}: ${base.message}` : base.message,
    retryable: opts.final ? false : base.retryable,
  };
}

/** Plain data shaped like a RunError with a known kind (not an Error: those go through coerceError). */
function isRunError(err: unknown): err is RunError {
  return err !== null && typeof err === 'object' && !(err instanceof Error) && 'message' in err && 'kind' in err && isErrorKind(err.kind);
}

/**
 * The store that holds big models' weights (S3-compatible) did not take or give them: unreachable, refusing
 * (5xx, denied, no such bucket), or timed out. Not a run's error: the API answers the upload 503 with it and
 * stores nothing, so the client can send the same upload again later. `store` names the store (its s3:// URL,
 * never a credential); the message says what it answered.
 */
export class ModelStoreUnavailableError extends Error {
  readonly kind = 'model_store_unavailable';
  readonly retryable = true;
  constructor(
    readonly store: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ModelStoreUnavailableError';
  }
}
