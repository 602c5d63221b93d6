import dgram from 'node:dgram';
import { once } from 'node:events';
import { RtspBindError } from './errors.js';

export type UdpKind = 'rtp' | 'rtcp';

/** Sender address of a datagram, as the key sessions register under (`ip:port`). */
export function peerKey(address: string, port: number): string {
  return `${address.replace(/^::ffff:/, '')}:${port}`;
}

async function bind(type: 'udp4' | 'udp6', host: string, port: number): Promise<dgram.Socket> {
  const s = dgram.createSocket({ type, reuseAddr: false });
  try {
    s.bind(port, host);
    await Promise.race([
      once(s, 'listening'),
      once(s, 'error').then(([e]) => {
        throw e;
      }),
    ]);
    return s;
  } catch (e) {
    s.close();
    throw e;
  }
}

/**
 * The one RTP/RTCP port pair shared by every UDP session (RTP even, RTCP = RTP+1, RFC 3550 §11), as
 * gortsplib and mediamtx (8000/8001) do. We send from these ports to the client's ports, and clients
 * send their RTCP receiver reports and NAT punch packets back to them; incoming packets are matched
 * to a session by sender address.
 */
export class UdpPair {
  private onPacket: (kind: UdpKind, key: string, msg: Buffer) => void = () => {};

  private constructor(
    readonly rtp: dgram.Socket,
    readonly rtcp: dgram.Socket,
  ) {
    for (const [kind, sock] of [['rtp', rtp] as const, ['rtcp', rtcp] as const]) {
      sock.on('message', (msg, rinfo) => this.onPacket(kind, peerKey(rinfo.address, rinfo.port), msg));
      // Send errors (ICMP port unreachable surfaces as ECONNREFUSED on some systems) must not crash us.
      sock.on('error', () => {});
    }
  }

  /** Binds `rtpPort` and `rtpPort+1`; with 0, tries free ports until an even/odd pair is found. */
  static async open(host: string, rtpPort: number): Promise<UdpPair> {
    const type = host.includes(':') ? 'udp6' : 'udp4';
    const attempts = rtpPort === 0 ? 40 : 1;
    let lastErr: unknown;
    for (let i = 0; i < attempts; i++) {
      let rtp: dgram.Socket | undefined;
      try {
        rtp = await bind(type, host, rtpPort);
        const p = rtp.address().port;
        if (p % 2 !== 0 || p === 65535) {
          rtp.close();
          continue;
        }
        const rtcp = await bind(type, host, p + 1);
        return new UdpPair(rtp, rtcp);
      } catch (e) {
        lastErr = e;
        rtp?.close();
      }
    }
    throw new RtspBindError(`cannot bind an RTP/RTCP UDP port pair on ${host}${rtpPort ? ` at ${rtpPort}` : ''}`, { cause: lastErr });
  }

  get ports(): { rtp: number; rtcp: number } {
    return { rtp: this.rtp.address().port, rtcp: this.rtcp.address().port };
  }

  listen(cb: (kind: UdpKind, key: string, msg: Buffer) => void): void {
    this.onPacket = cb;
  }

  close(): void {
    for (const s of [this.rtp, this.rtcp]) {
      try {
        s.close();
      } catch {
        // already closed
      }
    }
  }
}
