import { stripUserinfo } from '../../redact.js';
import { InvalidMountPathError } from './errors.js';

/** A request URL reduced to what routing needs. */
export interface RequestTarget {
  /** Mount path without leading/trailing slashes and without the track control ('' for `*` or `/`). */
  path: string;
  /** Track number when the URL names one (`trackID=N`), else undefined (aggregate or FFmpeg's `base/`). */
  track?: number;
}

const SEGMENT = /^[A-Za-z0-9._~-]+$/;

/** Mount paths look like 'live' or 'cams/1': plain URL segments, no empty or control-like ones. */
export function validateMountPath(path: string): string {
  const segs = path.split('/');
  if (!path || segs.some((s) => !SEGMENT.test(s) || s === '.' || s === '..' || /^trackID=/i.test(s))) {
    throw new InvalidMountPathError(`invalid RTSP mount path ${JSON.stringify(path)}: use segments of [A-Za-z0-9._~-] separated by '/'`);
  }
  return path;
}

/**
 * Path of a request URL. Host, port and userinfo are ignored on purpose: VLC rewrites the URL to
 * host:554 when credentials are given, and NATs change hosts. Accepted track forms (gortsplib
 * server_session.go): `base/trackID=N`, `base/trackID=N?q` (GStreamer), `base?q/trackID=N` (FFmpeg
 * appends "/"+control after the query), and `base/` (FFmpeg, single track).
 */
export function parseRequestTarget(url: string): RequestTarget {
  let rest = url;
  const abs = /^rtsps?:\/\/[^/?]*/i.exec(rest);
  if (abs) rest = rest.slice(abs[0].length);
  let track: number | undefined;
  const tail = /\/trackID=(\d+)$/i.exec(rest);
  if (tail) {
    track = Number(tail[1]);
    rest = rest.slice(0, tail.index);
  }
  const q = rest.indexOf('?');
  let path = q >= 0 ? rest.slice(0, q) : rest;
  const inner = /\/trackID=(\d+)$/i.exec(path);
  if (inner && track === undefined) {
    track = Number(inner[1]);
    path = path.slice(0, inner.index);
  }
  try {
    path = decodeURIComponent(path);
  } catch {
    // Leave undecodable escapes as they are; no mount will match.
  }
  path = path.replace(/^\/+|\/+$/g, '');
  return track === undefined ? { path } : { path, track };
}

/** The URL with any `user:password@` removed, safe to echo in headers and logs. */
export function redactUrl(url: string): string {
  // Up to the LAST '@' of the authority, as parsers read it: the one rule of src/redact.ts.
  return stripUserinfo(url);
}
