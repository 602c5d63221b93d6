import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export type AuthMethod = 'basic' | 'digest';

export interface MountAuth {
  user: string;
  password: string;
  /** Challenges offered, default both. Digest is MD5 only: SHA-256 breaks FFmpeg. */
  methods?: AuthMethod[];
}

export type AuthResult = 'ok' | 'missing' | 'wrong';

const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

function safeEqual(a: string, b: string): boolean {
  // Compare digests of equal length so timing says nothing about where they differ.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** key=value / key="value" pairs of a Digest Authorization header. */
function digestParams(s: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (const m of s.matchAll(re)) out.set(m[1]!.toLowerCase(), m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? ''));
  return out;
}

/**
 * Per-mount credential check. Clients send nothing until challenged (FFmpeg), so a request without
 * credentials gets 401 and the connection stays open; only wrong credentials close it.
 */
export class Authenticator {
  private readonly methods: AuthMethod[];

  constructor(
    private readonly auth: MountAuth,
    private readonly realm: string,
    private readonly nonce: string = randomBytes(16).toString('hex'),
  ) {
    this.methods = auth.methods?.length ? auth.methods : ['digest', 'basic'];
  }

  /** WWW-Authenticate values. Digest first: VLC and FFmpeg pick the strongest offered anyway. */
  challenges(): string[] {
    return this.methods.map((m) => (m === 'digest' ? `Digest realm="${this.realm}", nonce="${this.nonce}", algorithm=MD5` : `Basic realm="${this.realm}"`));
  }

  check(method: string, authorization: string | undefined): AuthResult {
    if (!authorization) return 'missing';
    const sp = authorization.indexOf(' ');
    const scheme = (sp < 0 ? authorization : authorization.slice(0, sp)).toLowerCase();
    const rest = sp < 0 ? '' : authorization.slice(sp + 1).trim();
    if (scheme === 'basic' && this.methods.includes('basic')) return this.checkBasic(rest);
    if (scheme === 'digest' && this.methods.includes('digest')) return this.checkDigest(method, rest);
    return 'wrong';
  }

  private checkBasic(b64: string): AuthResult {
    const text = Buffer.from(b64, 'base64').toString('utf8');
    // `Basic Og==` (an empty user and password) means "no credentials" (Qognify, mtx#1762).
    if (text === ':' || text === '') return 'missing';
    const colon = text.indexOf(':');
    if (colon < 0) return 'wrong';
    const okUser = safeEqual(text.slice(0, colon), this.auth.user);
    const okPass = safeEqual(text.slice(colon + 1), this.auth.password);
    return okUser && okPass ? 'ok' : 'wrong';
  }

  /**
   * RFC 2617 MD5 digest. The uri is hashed exactly as the client sent it in the header: it may be
   * absolute, path-only, or the base URL on SETUP (VLC), so it is never compared with the request URL.
   */
  private checkDigest(method: string, params: string): AuthResult {
    const p = digestParams(params);
    const username = p.get('username');
    const uri = p.get('uri');
    const response = p.get('response');
    if (username === undefined || uri === undefined || response === undefined) return 'wrong';
    if (p.get('realm') !== this.realm || p.get('nonce') !== this.nonce) return 'wrong';
    const algo = (p.get('algorithm') ?? 'MD5').toUpperCase();
    if (algo !== 'MD5') return 'wrong';
    const ha1 = md5(`${this.auth.user}:${this.realm}:${this.auth.password}`);
    const ha2 = md5(`${method}:${uri}`);
    const qop = p.get('qop');
    const expected = qop ? md5(`${ha1}:${this.nonce}:${p.get('nc') ?? ''}:${p.get('cnonce') ?? ''}:${qop}:${ha2}`) : md5(`${ha1}:${this.nonce}:${ha2}`);
    const okUser = safeEqual(username, this.auth.user);
    return safeEqual(response.toLowerCase(), expected) && okUser ? 'ok' : 'wrong';
  }
}
