import net from 'node:net';
import { once } from 'node:events';
import { silentLogger, type Logger } from '../../log.js';
import type { MountAuth } from './auth.js';
import { RtspConn } from './conn.js';
import { InvalidRtspOptionError, MountExistsError, RtspBindError } from './errors.js';
import { handleRequest, type ServerContext } from './handler.js';
import type { RtspRequest } from './message.js';
import { Mount, type RtspMount } from './mount.js';
import type { RtspSession } from './session.js';
import type { VideoCodec } from './types.js';
import { UdpPair, peerKey } from './udp.js';
import { validateMountPath } from './url.js';

export interface RtspServerOptions {
  /** Default '0.0.0.0'. */
  host?: string;
  /** 0 picks a free port; read it back from `port` after listen(). */
  port: number;
  /** Even RTP port of the one UDP pair shared by all sessions (RTCP = +1); 0/default picks a free pair. */
  udpRtpPort?: number;
  /** Disable UDP transport entirely (SETUP over UDP then gets 461, and clients switch to TCP). */
  udp?: boolean;
  /**
   * A session without requests or RTCP for this long is closed (UDP); default 60. A connection without
   * sessions and without a byte from its client for this long is closed too.
   */
  sessionTimeoutS?: number;
  /** Per-reader queue in packets, default 512; a full queue drops that reader only. */
  writeQueueSize?: number;
  /** How long DESCRIBE waits for the first parameter sets before 404; default 2000 ms. */
  describeWaitMs?: number;
  /** RTCP sender report period; default 5000 ms. */
  senderReportIntervalMs?: number;
  /** A reader whose queue has not emptied for this long is dropped; default 10000 ms. */
  writeTimeoutMs?: number;
  /** GOP cache bound per mount, in packets; default 8192 (about 11 MB). */
  gopCacheMaxPackets?: number;
  /** Open client connections at most; one more is closed at once. Default 256. */
  maxConnections?: number;
  /** Sessions one connection may set up (one per mount read); the next SETUP gets 453. Default 4. */
  maxSessionsPerConnection?: number;
  /** Sessions in all (UDP ones outlive their connection until they expire); then SETUP gets 503. Default 1024. */
  maxSessions?: number;
  /** A request must be complete within this long of its first byte, however slowly it trickles; default 10000 ms. */
  requestTimeoutMs?: number;
  /**
   * Where a mount this server does not have is served now (another engine holding the run), as an
   * rtsp:// URL: DESCRIBE then answers 302 with it as Location, so a consumer keeps one URL through
   * failover. Undefined, or no answer: 404 as usual. Set later with setLocator (the engine's database).
   */
  locate?: MountLocator;
  logger?: Logger;
}

/** Finds where a mount path is served now; undefined when nowhere else. */
export type MountLocator = (path: string) => Promise<string | undefined>;

/**
 * Embedded RTSP server publishing H.264/H.265 mounts to any number of readers over TCP (interleaved)
 * or UDP unicast. Request handling is in handler.ts, one connection in conn.ts, one stream in mount.ts.
 */
export class RtspServer {
  // Half-open: a client may send TEARDOWN and FIN together and still get the reply.
  private readonly tcp = net.createServer({ allowHalfOpen: true }, (s) => this.onSocket(s));
  private readonly mounts = new Map<string, Mount>();
  private readonly sessions = new Map<string, RtspSession>();
  private readonly conns = new Set<RtspConn>();
  private readonly udpPeers = new Map<string, RtspSession>();
  private udp: UdpPair | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly ctx: ServerContext;
  private readonly log: Logger;
  private readonly timeoutMs: number;
  private readonly limits: { maxConnections: number; requestTimeoutMs: number };
  private refusedSince = 0;
  private refused = 0;
  private listening = false;

  constructor(private readonly opts: RtspServerOptions) {
    this.locator = opts.locate;
    const timeoutS = opts.sessionTimeoutS ?? 60;
    const queue = opts.writeQueueSize ?? 512;
    if (!(timeoutS > 0)) throw new InvalidRtspOptionError(`sessionTimeoutS must be > 0, got ${timeoutS}`);
    if (!Number.isInteger(queue) || queue < 1) throw new InvalidRtspOptionError(`writeQueueSize must be an integer ≥ 1, got ${queue}`);
    const udpPort = opts.udpRtpPort ?? 0;
    if (!Number.isInteger(udpPort) || udpPort % 2 !== 0 || udpPort < 0 || udpPort > 65534) {
      throw new InvalidRtspOptionError(`udpRtpPort must be an even port (RTCP uses the next one), got ${udpPort}`);
    }
    const count = (name: string, v: number): number => {
      if (!Number.isInteger(v) || v < 1) throw new InvalidRtspOptionError(`${name} must be an integer ≥ 1, got ${v}`);
      return v;
    };
    const maxSessionsPerConnection = count('maxSessionsPerConnection', opts.maxSessionsPerConnection ?? 4);
    const maxSessions = count('maxSessions', opts.maxSessions ?? 1024);
    this.limits = {
      maxConnections: count('maxConnections', opts.maxConnections ?? 256),
      requestTimeoutMs: count('requestTimeoutMs', opts.requestTimeoutMs ?? 10_000),
    };
    this.timeoutMs = timeoutS * 1000;
    this.log = (opts.logger ?? silentLogger).child({ component: 'rtsp-server' });
    this.ctx = {
      logger: this.log,
      // Clients that ping exactly at the advertised timeout (Media Foundation) still make it: advertise less.
      advertisedTimeoutS: Math.max(1, Math.floor(timeoutS - Math.min(5, timeoutS / 2))),
      writeQueueSize: queue,
      describeWaitMs: opts.describeWaitMs ?? 2000,
      srIntervalMs: opts.senderReportIntervalMs ?? 5000,
      maxSessionsPerConnection,
      maxSessions,
      sessionCount: () => this.sessions.size,
      udp: () => this.udp,
      mount: (p) => this.mounts.get(p),
      locate: (p) => (this.locator ? this.locator(p) : Promise.resolve(undefined)),
      session: (id) => this.sessions.get(id),
      addSession: (s) => this.addSession(s),
      registerUdpPeer: (s) => this.registerUdpPeer(s),
      closeSession: (s, reason) => this.closeSession(s, reason),
      dropSession: (s, reason) => this.dropSession(s, reason),
    };
  }

  private locator: MountLocator | undefined;

  /** Where mounts this server does not have are served now (see RtspServerOptions.locate). */
  setLocator(locate: MountLocator | undefined): void {
    this.locator = locate;
  }

  async listen(): Promise<void> {
    const host = this.opts.host ?? '0.0.0.0';
    if (this.opts.udp !== false) this.udp = await UdpPair.open(host, this.opts.udpRtpPort ?? 0);
    this.udp?.listen((_kind, key) => this.udpPeers.get(key)?.touch());
    try {
      this.tcp.listen(this.opts.port, host);
      await Promise.race([
        once(this.tcp, 'listening'),
        once(this.tcp, 'error').then(([e]) => {
          throw e;
        }),
      ]);
    } catch (err) {
      this.udp?.close();
      throw new RtspBindError(`cannot listen on ${host}:${this.opts.port}`, { cause: err });
    }
    this.listening = true;
    this.sweeper = setInterval(() => this.sweep(), Math.min(1000, this.timeoutMs / 4, (this.opts.writeTimeoutMs ?? 10_000) / 4));
    this.sweeper.unref();
    this.log.info({ host, port: this.port, udp: this.udp?.ports }, 'rtsp server listening');
  }

  get port(): number {
    const a = this.tcp.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  get udpPorts(): { rtp: number; rtcp: number } {
    return this.udp?.ports ?? { rtp: 0, rtcp: 0 };
  }

  /** Sessions that exist now (set up, playing or paused), for monitoring and tests. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  createMount(path: string, opts: { codec: VideoCodec; auth?: MountAuth }): RtspMount {
    validateMountPath(path);
    if (this.mounts.has(path)) throw new MountExistsError(`RTSP mount ${JSON.stringify(path)} already exists`);
    if (opts.codec !== 'h264' && opts.codec !== 'h265') throw new InvalidRtspOptionError(`unsupported codec ${String(opts.codec)}`);
    const mount = new Mount(path, opts.codec, opts.auth, {
      logger: this.log,
      gopCacheMaxPackets: this.opts.gopCacheMaxPackets ?? 8192,
      onClose: (m) => this.onMountClosed(m),
    });
    this.mounts.set(path, mount);
    this.log.info({ mount: path, codec: opts.codec, auth: Boolean(opts.auth) }, 'mount created');
    return mount;
  }

  getMount(path: string): RtspMount | undefined {
    return this.mounts.get(path);
  }

  /** Disconnects the mount's readers (RTCP BYE first); a later DESCRIBE gets 404. */
  removeMount(path: string): void {
    this.mounts.get(path)?.close();
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    for (const m of [...this.mounts.values()]) m.close();
    for (const s of [...this.sessions.values()]) this.closeSession(s, 'server closing');
    for (const c of this.conns) c.destroy();
    this.udp?.close();
    this.udp = undefined;
    if (this.listening) {
      this.listening = false;
      await new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    }
  }

  /** Client connections open now, for monitoring and tests. */
  get connectionCount(): number {
    return this.conns.size;
  }

  private onSocket(socket: net.Socket): void {
    if (this.conns.size >= this.limits.maxConnections) {
      // Refused before a byte is read: no request to answer, and a flood must not cost more than this.
      socket.on('error', () => {});
      socket.destroy();
      this.noteRefused();
      return;
    }
    const host = { handleRequest: (c: RtspConn, r: RtspRequest) => handleRequest(this.ctx, c, r), onConnClosed: (c: RtspConn) => this.onConnClosed(c) };
    const conn = new RtspConn(socket, host, this.log, { requestTimeoutMs: this.limits.requestTimeoutMs });
    this.conns.add(conn);
  }

  /** One warning per 10 s at most while connections are being refused. */
  private noteRefused(): void {
    this.refused++;
    const now = Date.now();
    if (now - this.refusedSince < 10_000) return;
    this.log.warn({ maxConnections: this.limits.maxConnections, refused: this.refused }, 'connection limit reached, refusing connections');
    this.refusedSince = now;
    this.refused = 0;
  }

  private onConnClosed(conn: RtspConn): void {
    this.conns.delete(conn);
    for (const s of [...conn.sessions]) {
      // A TCP session dies with its socket (mtx#149); a UDP one may be resumed and otherwise expires.
      if (s.transport?.protocol === 'udp') s.conn = undefined;
      else this.closeSession(s, 'connection closed');
    }
    conn.sessions.clear();
  }

  private addSession(s: RtspSession): void {
    this.sessions.set(s.id, s);
    this.log.debug({ session: s.id, mount: s.mount.path }, 'session created');
  }

  private registerUdpPeer(s: RtspSession): void {
    this.unregisterUdpPeer(s);
    const t = s.transport;
    if (t?.protocol !== 'udp') return;
    for (const port of t.clientPorts) this.udpPeers.set(peerKey(t.address, port), s);
  }

  private unregisterUdpPeer(s: RtspSession): void {
    for (const [k, v] of this.udpPeers) if (v === s) this.udpPeers.delete(k);
  }

  private closeSession(s: RtspSession, reason: string, bye = false): void {
    if (s.isClosed) return;
    s.close(bye);
    this.sessions.delete(s.id);
    this.unregisterUdpPeer(s);
    s.conn?.sessions.delete(s);
    this.log.debug({ session: s.id, mount: s.mount.path, reason }, 'session closed');
  }

  private dropSession(s: RtspSession, reason: string): void {
    this.log.warn({ session: s.id, mount: s.mount.path, reason }, 'reader dropped');
    const conn = s.conn;
    this.closeSession(s, reason);
    // A stalled TCP reader will not read a graceful close either; a UDP reader's connection is idle.
    if (conn && s.transport?.protocol === 'tcp') conn.destroy();
    else if (conn && conn.sessions.size === 0) conn.end();
  }

  private onMountClosed(m: Mount): void {
    if (this.mounts.get(m.path) === m) this.mounts.delete(m.path);
    for (const s of [...this.sessions.values()]) {
      if (s.mount !== m) continue;
      const conn = s.conn;
      this.closeSession(s, 'mount removed', true);
      if (conn && conn.sessions.size === 0) conn.end();
    }
    this.log.info({ mount: m.path }, 'mount removed');
  }

  /** Drops stalled readers, expires sessions and idle connections; TCP sessions live as long as their socket. */
  private sweep(): void {
    // Monotonic, as the sessions' lastActivity: a wall clock stepped ahead would expire every session.
    const now = performance.now();
    const writeTimeoutMs = this.opts.writeTimeoutMs ?? 10_000;
    for (const s of [...this.sessions.values()]) {
      if (s.stalled(now, writeTimeoutMs)) {
        s.mount.stats.readersDropped++;
        this.dropSession(s, `nothing could be sent for ${writeTimeoutMs} ms`);
        continue;
      }
      if (s.transport?.protocol !== 'tcp' && now - s.lastActivity > this.timeoutMs) {
        const conn = s.conn;
        this.closeSession(s, 'timeout', true);
        if (conn && conn.sessions.size === 0) conn.end();
      }
    }
    for (const c of this.conns) if (c.sessions.size === 0 && now - c.lastActivity > this.timeoutMs) c.end();
  }
}
