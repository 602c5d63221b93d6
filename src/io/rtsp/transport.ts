/** One Transport alternative we can serve. */
export type TransportRequest =
  | { protocol: 'tcp'; interleaved?: [number, number] }
  | { protocol: 'udp'; clientPorts: [number, number] };

function portPair(v: string | undefined): [number, number] | undefined {
  if (!v) return undefined;
  const m = /^(\d+)(?:-(\d+))?$/.exec(v.trim());
  if (!m) return undefined;
  const a = Number(m[1]);
  // A single port means the pair (p, p+1) (gortsplib headers/transport.go).
  const b = m[2] !== undefined ? Number(m[2]) : a + 1;
  if (a > 65535 || b > 65535) return undefined;
  return [a, b];
}

function interleavedPair(v: string | undefined): [number, number] | undefined {
  const p = portPair(v);
  return p && p[0] <= 255 && p[1] <= 255 ? p : undefined;
}

/**
 * Picks the first alternative we support from a Transport header (comma-separated, in the client's
 * order of preference, RFC 2326 §12.39). `RTP/AVP` and `RTP/AVP/UDP` mean UDP, `RTP/AVP/TCP` means
 * interleaved; parameters come in any order, mode may be quoted and any case. Multicast and
 * mode=record are not served. Undefined means 461 Unsupported Transport, on which VLC and FFmpeg retry
 * with TCP.
 */
export function chooseTransport(header: string | undefined): TransportRequest | undefined {
  if (!header) return undefined;
  for (const alt of header.split(',')) {
    const parts = alt.split(';').map((p) => p.trim());
    const proto = (parts.shift() ?? '').toUpperCase();
    const params = new Map<string, string | undefined>();
    for (const p of parts) {
      const eq = p.indexOf('=');
      if (eq < 0) params.set(p.toLowerCase(), undefined);
      else params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim());
    }
    if (params.has('multicast')) continue;
    const mode = params.get('mode')?.replace(/"/g, '').toLowerCase();
    if (mode !== undefined && mode !== 'play') continue;
    if (proto === 'RTP/AVP/TCP') {
      const interleaved = interleavedPair(params.get('interleaved'));
      if (params.has('interleaved') && !interleaved) continue;
      return interleaved ? { protocol: 'tcp', interleaved } : { protocol: 'tcp' };
    }
    if (proto === 'RTP/AVP' || proto === 'RTP/AVP/UDP') {
      const clientPorts = portPair(params.get('client_port'));
      if (!clientPorts || clientPorts[0] === 0) continue;
      return { protocol: 'udp', clientPorts };
    }
  }
  return undefined;
}

export function ssrcHex(ssrc: number): string {
  return (ssrc >>> 0).toString(16).toUpperCase().padStart(8, '0');
}
