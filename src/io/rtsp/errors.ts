import { ConfigInvalidError, InternalError, SieError } from '../../errors.js';

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

/** The byte stream from a client is not RTSP (or exceeds our limits); the connection is closed. */
export class RtspParseError extends InternalError {}

/**
 * A request that gets a non-2xx reply. Thrown inside request handling and turned into a response
 * with this status (CSeq still echoed), never outside the server.
 */
export class RtspStatusError extends InternalError {
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
