import type { Logger } from '../../log.js';
import type { Reply, RtspConn } from './conn.js';
import { RtspStatusError } from './errors.js';
import type { RtspRequest } from './message.js';
import type { Mount } from './mount.js';
import { tcpSink, udpSink } from './reader.js';
import { RtspSession, type SessionTransport } from './session.js';
import { chooseTransport, ssrcHex } from './transport.js';
import type { UdpPair } from './udp.js';
import { parseRequestTarget, redactUrl } from './url.js';

/**
 * The methods we advertise. GET_PARAMETER must be listed: VLC sends keep-alives only if it is, FFmpeg
 * falls back to OPTIONS, and GStreamer sends only advertised methods.
 *
 * PAUSE is answered but not listed, on purpose. When a GStreamer pipeline stops, rtspsrc queues PAUSE
 * (PLAYING→PAUSED) and at once CLOSE (PAUSED→READY), and CLOSE cancels the PAUSE in flight. If the
 * cancel lands before PAUSE is written, GStreamer's rtspconnection reports the cancelled write
 * (nothing written) as "Received end-of-file", and rtspsrc posts "Could not send message" as an
 * error: gst-launch exits 1 although the server never saw the PAUSE and answered the TEARDOWN
 * (GStreamer 1.22; the same code is in its main branch). rtspsrc skips PAUSE for a server that does
 * not list it, so its shutdown is TEARDOWN alone. Pausing a live stream gains a viewer nothing; a
 * GStreamer viewer that pauses over TCP stops reading and is dropped after writeTimeoutMs.
 */
export const PUBLIC_METHODS = 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER, SET_PARAMETER';

/** What request handling needs from the server. */
export interface ServerContext {
  readonly logger: Logger;
  /** Session timeout as advertised in `Session: id;timeout=N`. */
  readonly advertisedTimeoutS: number;
  readonly writeQueueSize: number;
  readonly describeWaitMs: number;
  readonly srIntervalMs: number;
  readonly maxSessionsPerConnection: number;
  readonly maxSessions: number;
  sessionCount(): number;
  udp(): UdpPair | undefined;
  mount(path: string): Mount | undefined;
  /** Where a mount this server does not have is served now (RtspServerOptions.locate). */
  locate(path: string): Promise<string | undefined>;
  session(id: string): RtspSession | undefined;
  addSession(s: RtspSession): void;
  registerUdpPeer(s: RtspSession): void;
  closeSession(s: RtspSession, reason: string): void;
  /** A reader whose queue overflowed: end its session and connection. */
  dropSession(s: RtspSession, reason: string): void;
}

const fail = (status: number, message: string): never => {
  throw new RtspStatusError(status, message);
};

/** Answers one request. Every outcome is a reply; the caller echoes CSeq on all of them. */
export async function handleRequest(ctx: ServerContext, conn: RtspConn, req: RtspRequest): Promise<Reply> {
  const log = ctx.logger;
  let reply: Reply;
  if (req.headers.get('cseq') === undefined) {
    reply = { status: 400, headers: [] }; // gortsplib: no CSeq, no conversation
  } else {
    try {
      reply = await dispatch(ctx, conn, req);
    } catch (err) {
      if (!(err instanceof RtspStatusError)) throw err;
      log.debug({ method: req.method, status: err.status, reason: err.message }, 'request refused');
      reply = { status: err.status, headers: err.headers, close: err.closeConnection };
    }
  }
  log.debug({ method: req.method, url: redactUrl(req.url), status: reply.status }, 'rtsp request');
  reply.headers.push(['Server', 'sie']);
  return reply;
}

async function dispatch(ctx: ServerContext, conn: RtspConn, req: RtspRequest): Promise<Reply> {
  switch (req.method) {
    case 'OPTIONS': {
      const s = sessionOf(ctx, conn, req, false);
      return { status: 200, headers: [['Public', PUBLIC_METHODS], ...sessionHeader(ctx, s)] };
    }
    case 'DESCRIBE':
      return describe(ctx, req);
    case 'SETUP':
      return setup(ctx, conn, req);
    case 'PLAY':
      return play(ctx, conn, req);
    case 'PAUSE': {
      const s = sessionOf(ctx, conn, req, true)!;
      s.pause();
      return { status: 200, headers: sessionHeader(ctx, s) };
    }
    case 'TEARDOWN': {
      const s = sessionOf(ctx, conn, req, true)!;
      ctx.closeSession(s, 'teardown');
      return { status: 200, headers: [] };
    }
    case 'GET_PARAMETER':
    case 'SET_PARAMETER': {
      // Keep-alives (VLC, FFmpeg; ONVIF clients use SET_PARAMETER): any reply refreshes the session.
      const s = sessionOf(ctx, conn, req, false);
      return { status: 200, headers: sessionHeader(ctx, s) };
    }
    default:
      return { status: 501, headers: [['Public', PUBLIC_METHODS]] };
  }
}

function sessionHeader(ctx: ServerContext, s: RtspSession | undefined): [string, string][] {
  return s ? [['Session', `${s.id};timeout=${ctx.advertisedTimeoutS}`]] : [];
}

/**
 * The session named by the Session header (Larix echoes `;timeout=`: stripped). Any request with it
 * counts as a keep-alive. A TCP session can only be driven from its own connection.
 */
function sessionOf(ctx: ServerContext, conn: RtspConn, req: RtspRequest, required: boolean): RtspSession | undefined {
  const raw = req.headers.get('session');
  if (!raw) return required ? fail(454, 'Session header missing') : undefined;
  const s = ctx.session(raw.split(';')[0]!.trim());
  if (!s || (s.transport?.protocol === 'tcp' && s.conn !== conn)) return fail(454, 'unknown session');
  s.touch();
  if (!s.conn && conn.sessions.size < ctx.maxSessionsPerConnection) {
    s.conn = conn; // a UDP session picked up again by a new connection
    conn.sessions.add(s);
  }
  return s;
}

function mountOf(ctx: ServerContext, req: RtspRequest): { mount: Mount; track: number | undefined } {
  const t = parseRequestTarget(req.url);
  const mount = ctx.mount(t.path);
  if (!mount || mount.isClosed) return fail(404, `no mount at ${JSON.stringify(t.path)}`);
  if (t.track !== undefined && t.track !== 0) return fail(404, `no track ${t.track}`);
  const auth = mount.authenticator;
  if (auth) {
    const result = auth.check(req.method, req.headers.get('authorization'));
    if (result !== 'ok') {
      const headers = auth.challenges().map((c): [string, string] => ['WWW-Authenticate', c]);
      // Without credentials this is the normal challenge (FFmpeg sends none until asked): keep the socket.
      throw new RtspStatusError(401, `credentials ${result}`, headers, result === 'wrong');
    }
  }
  return { mount, track: t.track };
}

/**
 * DESCRIBE of a mount this server does not have, but another does now (the run is held by another engine):
 * 302 to it. FFmpeg and GStreamer's rtspsrc follow it; the consumer keeps the URL it was given.
 */
async function redirectFor(ctx: ServerContext, req: RtspRequest): Promise<Reply | undefined> {
  const t = parseRequestTarget(req.url);
  const m = ctx.mount(t.path);
  if (m && !m.isClosed) return undefined;
  let location: string | undefined;
  try {
    location = await ctx.locate(t.path);
  } catch (err) {
    // The lookup failing (the database away) is the 404 the client would have had anyway.
    ctx.logger.warn({ path: t.path, err: redactUrl((err as Error).message) }, 'could not look up where a mount is served');
    return undefined;
  }
  if (!location) return undefined;
  ctx.logger.info({ path: t.path, location: redactUrl(location) }, 'mount served elsewhere: redirecting');
  return { status: 302, headers: [['Location', location]] };
}

async function describe(ctx: ServerContext, req: RtspRequest): Promise<Reply> {
  const redirect = await redirectFor(ctx, req);
  if (redirect) return redirect;
  const { mount } = mountOf(ctx, req);
  // Before the first keyframe there is no SDP: wait briefly, then 404. Any other error makes VLC try
  // HTTP tunnelling and a SAT>IP dialect instead of retrying.
  const ready = await mount.whenReady(ctx.describeWaitMs);
  const sdp = ready && !mount.isClosed ? mount.sdp() : undefined;
  if (!sdp) return fail(404, 'no parameter sets yet');
  const base = redactUrl(req.url);
  return {
    status: 200,
    headers: [
      ['Content-Type', 'application/sdp'],
      ['Content-Base', base.endsWith('/') ? base : `${base}/`],
    ],
    body: sdp,
  };
}

function freeChannelPair(used: Set<number>): [number, number] {
  for (let c = 0; c < 254; c += 2) if (!used.has(c) && !used.has(c + 1)) return [c, c + 1];
  return fail(461, 'no free interleaved channels');
}

function setup(ctx: ServerContext, conn: RtspConn, req: RtspRequest): Reply {
  const { mount } = mountOf(ctx, req);
  const tr = chooseTransport(req.headers.get('transport'));
  if (!tr || (tr.protocol === 'udp' && !ctx.udp())) return fail(461, 'no supported transport offered');
  const existing = sessionOf(ctx, conn, req, false);
  if (existing && existing.mount !== mount) return fail(459, 'session belongs to another mount');
  if (!existing) {
    // RFC 2326 §11.3.5: 453 is a resource reservation refused. Without it one connection pipelining
    // SETUPs could create sessions (and UDP peers) without end.
    if (conn.sessions.size >= ctx.maxSessionsPerConnection) return fail(453, `at most ${ctx.maxSessionsPerConnection} sessions per connection`);
    if (ctx.sessionCount() >= ctx.maxSessions) return fail(503, `at most ${ctx.maxSessions} sessions`);
  }
  const session = existing ?? new RtspSession(mount, conn);
  const ssrc = ssrcHex(mount.ssrc);
  let transport: SessionTransport;
  let replyTransport: string;
  if (tr.protocol === 'tcp') {
    // Echo what the client asked for (odd pairs included); assign the first free pair if it asked none.
    const channels = tr.interleaved ?? freeChannelPair(conn.usedChannels());
    transport = { protocol: 'tcp', channels };
    replyTransport = `RTP/AVP/TCP;unicast;interleaved=${channels[0]}-${channels[1]};ssrc=${ssrc}`;
  } else {
    const ports = ctx.udp()!.ports;
    // Always the RTSP peer's address: a `destination=` would let anyone aim our stream at a third party.
    // The socket's own form of the address (IPv4-mapped on a dual-stack listener) is what dgram can send to.
    transport = { protocol: 'udp', address: conn.socket.remoteAddress ?? conn.remoteAddress, clientPorts: tr.clientPorts };
    replyTransport = `RTP/AVP;unicast;client_port=${tr.clientPorts[0]}-${tr.clientPorts[1]};server_port=${ports.rtp}-${ports.rtcp};ssrc=${ssrc}`;
  }
  session.setup(transport, req.url);
  if (!existing) {
    ctx.addSession(session);
    conn.sessions.add(session);
  }
  if (transport.protocol === 'udp') ctx.registerUdpPeer(session);
  return { status: 200, headers: [['Transport', replyTransport], ...sessionHeader(ctx, session)] };
}

function play(ctx: ServerContext, conn: RtspConn, req: RtspRequest): Reply {
  const s = sessionOf(ctx, conn, req, true)!;
  // The aggregate URL comes with or without a trailing slash, or as '*'; a foreign path (VLC's SAT>IP
  // `/stream=0`) is not ours.
  const path = parseRequestTarget(req.url).path;
  if (path !== s.mount.path && path !== '' && path !== '*') return fail(404, 'PLAY URL does not match the session');
  if (s.mount.isClosed) return fail(404, 'mount removed');
  const t = s.transport;
  if (!t) return fail(455, 'not set up');
  const udp = ctx.udp();
  if (t.protocol === 'udp' && !udp) return fail(503, 'UDP closed');
  const sink = t.protocol === 'tcp' ? tcpSink(conn.socket, t.channels) : udpSink(udp!.rtp, udp!.rtcp, t.address, t.clientPorts);
  const { info, start } = s.play(sink, {
    queueSize: ctx.writeQueueSize,
    srIntervalMs: ctx.srIntervalMs,
    onDrop: (reason) => ctx.dropSession(s, reason),
  });
  // seq and rtptime only when known (gortsplib PR#568): GStreamer and ExoPlayer need them, and a wrong
  // guess is worse than none.
  const rtpInfo = `url=${redactUrl(s.setupUrl)}` + (info.seq !== undefined ? `;seq=${info.seq};rtptime=${info.rtptime}` : '');
  return {
    status: 200,
    headers: [['Range', 'npt=0.000-'], ['RTP-Info', rtpInfo], ...sessionHeader(ctx, s)],
    after: start,
  };
}
