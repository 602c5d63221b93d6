import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TOO_DEEP, redactDeep, redactSecrets, redactText, secretsOfUrl, stripUserinfo } from '../../src/redact.js';
import { redactUrl } from '../../src/io/rtsp/url.js';
import { urlInputProblem } from '../../src/urlCheck.js';

describe('redaction of credentials', () => {
  it.each([
    ['rtsp://admin:s3cret@10.0.0.5:554/stream', 'rtsp://admin:***@10.0.0.5:554/stream'],
    ['opening rtsps://u:p%40ss@cam/x failed', 'opening rtsps://u:***@cam/x failed'],
    ['postgres://postgres@127.0.0.1:5432/sie', 'postgres://postgres@127.0.0.1:5432/sie'],
    ['rtsp://:onlypass@cam/x', 'rtsp://:***@cam/x'],
    ['no url here', 'no url here'],
    ['two rtsp://a:b@h/1 and rtsp://c:d@h/2', 'two rtsp://a:***@h/1 and rtsp://c:***@h/2'],
    // Issue 12: the password holds what the old pattern stopped at ('@', whitespace, controls).
    ['rtsp://u:p@ssW0rdX@127.0.0.1:1/x', 'rtsp://u:***@127.0.0.1:1/x'],
    ['rtsp://u:p\tssW0rdX@127.0.0.1:1/x', 'rtsp://u:***@127.0.0.1:1/x'],
    ['rtsp://u:p\nssW0rdX@127.0.0.1:1/x', 'rtsp://u:***@127.0.0.1:1/x'],
    ['rtsp://u:p ss@W0rd X@127.0.0.1:1/x failed', 'rtsp://u:***@127.0.0.1:1/x failed'],
    ['rtsp://u:a@b@c@host', 'rtsp://u:***@host'],
    ['rtsp://u:pw@h?x=1', 'rtsp://u:***@h?x=1'],
    ['two rtsp://a:b@h and rtsp://c:d@h', 'two rtsp://a:***@h and rtsp://c:***@h'],
    ['rtsp://u:p\u0000\u202ess@h/x', 'rtsp://u:***@h/x'],
    // A scheme glued to a word character before it (no word boundary there) is still a URL to a reader.
    ['x_rtsp://u:pw@h/x', 'x_rtsp://u:***@h/x'],
    ['1rtsp://u:pw@h/x', '1rtsp://u:***@h/x'],
    ['id=42rtsps://u:pw@h and _mqtt://v:pw2@b', 'id=42rtsps://u:***@h and _mqtt://v:***@b'],
  ])('%s', (input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it('finds the password of pathological URLs by the last @, keeping tabs and newlines (new URL drops them)', () => {
    expect(secretsOfUrl('rtsp://u:p@ssW0rdX@127.0.0.1:1/x')).toEqual(['p@ssW0rdX']);
    expect(secretsOfUrl('rtsp://u:p\tssW0rdX@h/x')).toEqual(['p\tssW0rdX']);
    expect(secretsOfUrl('rtsp://u:p%40ss%zz@h/x')).toEqual(['p%40ss%zz']);
    expect(secretsOfUrl('rtsp://u@h/x')).toEqual([]);
    // ffmpeg's stderr is read by lines: a newline in the password splits the URL over two of them.
    const nl = secretsOfUrl('rtsp://u:p\nssW0rdX@h/x');
    expect(nl).toContain('ssW0rdX');
    expect(redactSecrets('ssW0rdX@h/x: Connection refused', nl)).toBe('***@h/x: Connection refused');
    expect(redactSecrets('auth failed for p\tssW0rdX', secretsOfUrl('rtsp://u:p\tssW0rdX@h/x'))).toBe('auth failed for ***');
  });

  it("the RTSP server's request-URL redactor strips up to the last '@' too", () => {
    expect(redactUrl('rtsp://u:p@ssW0rdX@127.0.0.1:1/x')).toBe('rtsp://127.0.0.1:1/x');
    expect(redactUrl('rtsp://cam/x@y')).toBe('rtsp://cam/x@y');
    expect(redactUrl('RTSP://u@cam:554/x?y=1')).toBe('RTSP://cam:554/x?y=1');
    expect(redactUrl('*')).toBe('*');
    // The same rule as redactText's, because it is redactText's (src/redact.ts).
    expect(redactUrl('rtsp://u:a@b@c@host/x')).toBe(stripUserinfo('rtsp://u:a@b@c@host/x'));
  });

  it('scrubs a password that ffmpeg echoes outside a URL', () => {
    const secrets = secretsOfUrl('rtsp://viewer:Pa55%2Fword@cam/x');
    expect(secrets).toContain('Pa55/word');
    expect(redactSecrets('auth failed for Pa55/word', secrets)).toBe('auth failed for ***');
  });
});

describe('redactDeep', () => {
  it('redacts strings at any depth, in arrays and errors', async () => {
    const { redactDeep } = await import('../../src/redact.js');
    const out = JSON.stringify(
      redactDeep({ a: 'rtsp://u:pw1@h/x', b: { c: ['rtsp://u:pw2@h/y'], e: new Error('open rtsp://u:pw3@h/z failed') }, n: 3 }),
    );
    expect(out).not.toMatch(/pw[123]/);
    expect(out).toContain('rtsp://u:***@h/x');
    expect(out).toContain('"n":3');
  });

  it('does not pass on unredacted what lies deeper than it looks', () => {
    // 8 levels: `{ a: { a: ... { url } } }`, deeper than redactDeep's 6.
    let nested: unknown = { url: 'rtsp://u:deepSecret1@h/x', list: ['rtsp://u:deepSecret2@h/y'] };
    for (let i = 0; i < 8; i++) nested = { a: nested };
    const out = JSON.stringify(redactDeep({ top: 'rtsp://u:pw0@h/z', nested }));
    expect(out).not.toMatch(/deepSecret|pw0/);
    expect(out).toContain(TOO_DEEP);
    expect(out).toContain('rtsp://u:***@h/z');
    // Numbers, booleans and null need no looking at, at any depth.
    expect(redactDeep({ a: { a: { a: { a: { a: { a: { a: 1, b: null } } } } } } })).toEqual({ a: { a: { a: { a: { a: { a: TOO_DEEP } } } } } });
  });

  it('reaches a logger line: nested fields are redacted in what pino writes', async () => {
    const { spawnSync } = await import('node:child_process');
    // The compiled logger (make test builds before the suite), writing to stderr as in production.
    const script = "import('./dist/log.js').then(({createLogger})=>createLogger({}).warn({ error: { message: 'rtsp://cam:hunter22@h/1' }, lines: ['rtsp://cam:hunter22@h/2'] }, 'x'))";
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('cam:***@h/1');
    expect(r.stderr).not.toContain('hunter22');
  });
});

/** Any character but the three that end an authority for every parser ('/', '?', '#'). */
const passwordArb = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).filter((p) => !/[/?#]/.test(p));
const userArb = fc.stringMatching(/^[a-z][a-z0-9._-]{0,11}$/);

describe('redaction, for any password (property)', () => {
  it('never shows the password of a URL, alone or inside text', () => {
    fc.assert(
      fc.property(userArb, passwordArb, fc.constantFrom('127.0.0.1:1/x', 'cam.local/a/b?c=1', 'h'), (user, pw, rest) => {
        const url = `rtsp://${user}:${pw}@${rest}`;
        const shown = `rtsp://${user}:***@${rest}`;
        expect(redactText(url)).toBe(shown);
        expect(redactText(`opening ${url} failed`)).toBe(`opening ${shown} failed`);
        // ffmpeg echoing the password on its own (long enough to scrub without eating ordinary text).
        if (pw.length >= 3) expect(redactSecrets(`auth for ${pw}`, secretsOfUrl(url))).not.toContain(pw);
      }),
      { numRuns: 500 },
    );
  });

  it('an accepted URL means the same credentials to WHATWG URL as to our redactor (unambiguous)', () => {
    fc.assert(
      fc.property(userArb, passwordArb, (user, pw) => {
        const url = `rtsp://${user}:${pw}@127.0.0.1:1/x`;
        if (urlInputProblem(url) !== undefined) return;
        const u = new URL(url);
        expect(u.hostname).toBe('127.0.0.1');
        expect(u.username).toBe(user);
        expect(decodeURIComponent(u.password)).toBe(decodeURIComponent(pw));
      }),
      { numRuns: 500 },
    );
  });
});

describe('urlInputProblem: what the edges refuse, without quoting the URL', () => {
  it.each([
    ['rtsp://u:p@ssW0rdX@127.0.0.1:1/x', /must be percent-encoded/],
    ['rtsp://u:p\tssW0rdX@127.0.0.1:1/x', /whitespace or control/],
    ['rtsp://u:p\nssW0rdX@127.0.0.1:1/x', /whitespace or control/],
    ['rtsp://u:p ss@127.0.0.1:1/x', /whitespace or control/],
    ['rtsp://u:p\u202ess@h/x', /whitespace or control/],
    ['rtsp://u:p"ss@h/x', /must be percent-encoded/],
    ['rtsp://u:p%zzss@h/x', /not valid percent-encoding/],
    // Each %XX is well formed, but they do not decode (UTF-8 cut short): the deliverer's and ffmpeg's
    // decoding would fail at every use of a URL accepted here.
    ['rtsp://u:p%C3ssW0rdX@h/x', /not valid percent-encoding/],
    ['http://hook:ssW0rdX%E2%82@h/x', /not valid percent-encoding/],
    ['http://ssW0rdX%FF:x@h/x', /not valid percent-encoding/],
    ['rtsp://u:12/ssW0rdX@h/x', /'@' after the host/],
    ['https://hook:to ken@example.com/x', /whitespace/],
  ])('%s', (url, why) => {
    const p = urlInputProblem(url);
    expect(p).toMatch(why);
    expect(p).not.toMatch(/ssW0rdX|ken/);
  });

  it('names the class of character the userinfo broke, never the character itself', () => {
    // Quoting it (`must percent-encode '"'`) tells whoever reads the 400 or the log one character of a
    // password. Every offending character gets the very same message.
    const bad = ['"', '<', '>', '[', ']', '\\', '^', '`', '{', '|', '}', '@', 'é', '€', '😀'];
    const messages = new Set(bad.map((c) => urlInputProblem(`rtsp://u:p${c}ssW0rdX@h/x`)));
    expect([...messages]).toHaveLength(1);
    const [message] = [...messages];
    expect(message).toMatch(/^userinfo holds a character that must be percent-encoded/);
    for (const c of ['"', '<', '>', '[', ']', '\\', '^', '`', '{', '|', '}', 'é', '€', '😀']) expect(message).not.toContain(c);
  });

  it('accepts escapes that decode, as every decoder will read them', () => {
    expect(urlInputProblem('rtsp://u:p%C3%A9ss@h/x')).toBeUndefined();
    expect(urlInputProblem('http://%E2%82%AC:p%25%3A@h/x')).toBeUndefined();
  });

  it.each(['rtsp://u:p%40ssW0rdX@127.0.0.1:1/x', 'rtsp://cam.local/1', 'rtsps://u:p!$&()*+,;=~@cam:322/x', 'file:///srv/clips/a.mp4', 'http://127.0.0.1:9/hook'])(
    'accepts %s',
    (url) => expect(urlInputProblem(url)).toBeUndefined(),
  );
});
