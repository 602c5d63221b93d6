import { ConfigInvalidError, SieError } from '../../errors.js';

/** createMount on a path that already has a mount: the caller's configuration is wrong. */
export class MountExistsError extends ConfigInvalidError {}

/** A mount path that cannot be addressed in an RTSP URL ('', '/x', 'a//b', 'a b', 'x/trackID=0'). */
export class InvalidMountPathError extends ConfigInvalidError {}

/** Bad server options (odd UDP port, queue size < 1, ...). */
export class InvalidRtspOptionError extends ConfigInvalidError {}

/** listen() could not bind the TCP port or the UDP pair: another process may hold it, so retrying can help. */
export class RtspBindError extends SieError {
  readonly kind = 'internal_error';
  readonly retryable = true;
}

/**
 * What one client did wrong on its connection: answered (a status) or closed there, never a run's error, so
 * not a SieError (a 404 to a client is not an `internal_error` of anything). One that escapes the server is
 * our bug, and coerceError makes it internal then.
 */
export abstract class RtspClientError extends Error {
  readonly kind = 'rtsp_client';
  /** The same bytes get the same answer. */
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The byte stream from a client is not RTSP (or exceeds our limits); the connection is closed. */
export class RtspParseError extends RtspClientError {}

/**
 * A request that gets a non-2xx reply. Thrown inside request handling and turned into a response
 * with this status (CSeq still echoed), never outside the server.
 */
export class RtspStatusError extends RtspClientError {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: [string, string][] = [],
    /** Close the connection after the reply (wrong credentials: no guessing on an open socket). */
    readonly closeConnection = false,
  ) {
    super(message);
  }
}

/** The method is not allowed in the session's state (RFC 2326 §11.3.6: 455). */
export class InvalidSessionStateError extends RtspStatusError {
  constructor(
    readonly state: string,
    readonly allowed: readonly string[],
    method: string,
  ) {
    super(455, `${method} not valid in state ${state}; allowed in ${allowed.join(', ')}`);
  }
}
