import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NO_MEDIA_ROOT, openMediaRoot, resolveMediaFile } from '../../src/io/mediaRoot.js';
import { sourceFromUrl } from '../../src/engine/runFromClaim.js';
import { ConfigInvalidError } from '../../src/errors.js';

// Real files on a real disk: the point is what realpath makes of links and `..`.
const outer = realpathSync(mkdtempSync(join(tmpdir(), 'sie-media-')));
const root = openMediaRoot(mkRoot());
function mkRoot(): string {
  mkdirSync(join(outer, 'root', 'sub'), { recursive: true });
  writeFileSync(join(outer, 'root', 'clip.mp4'), 'x');
  writeFileSync(join(outer, 'secret.txt'), 'x');
  symlinkSync('/etc/passwd', join(outer, 'root', 'passwd'));
  symlinkSync(join(outer, 'root', 'clip.mp4'), join(outer, 'root', 'inner-link.mp4'));
  symlinkSync(join(outer, 'root'), join(outer, 'root-link'));
  return join(outer, 'root');
}
afterAll(() => rmSync(outer, { recursive: true, force: true }));

describe('resolveMediaFile', () => {
  it('gives the real path of a regular file below the root, by URL or path, through links that stay inside', () => {
    const clip = join(root, 'clip.mp4');
    expect(resolveMediaFile(root, `file://${clip}`)).toBe(clip);
    expect(resolveMediaFile(root, clip)).toBe(clip);
    expect(resolveMediaFile(root, `file://${root}/sub/../inner-link.mp4`)).toBe(clip);
    // The root spelled through a link to it.
    expect(resolveMediaFile(root, join(outer, 'root-link', 'clip.mp4'))).toBe(clip);
  });

  it.each([
    ['file:///etc/passwd', /is outside the media root$/],
    ['/dev/zero', /is outside the media root$/],
    ['file:///dev/zero', /is outside the media root$/],
    ['ROOT/../secret.txt', /secret\.txt is outside the media root$/],
    ['file://ROOT/%2e%2e/secret.txt', /is outside the media root$/],
    ['file://ROOT/passwd', /outside the media root \(through a symbolic link\)/],
    ['file://ROOT/sub', /is not a regular file/],
    ['file://ROOT/missing.mp4', /no such file under the media root/],
    ['file://ROOT/..%2Fsecret.txt', /not a usable file URL/],
    ['relative/clip.mp4', /expected an absolute path/],
  ])('%s is refused', (source, why) => {
    expect(() => resolveMediaFile(root, source.replace('ROOT', root))).toThrow(why);
  });

  it('a missing file outside the root reads like an existing one (no probing the disk)', () => {
    expect(() => resolveMediaFile(root, '/etc/no-such-file')).toThrow(/^\/etc\/no-such-file is outside the media root$/);
  });

  it('no root: every file source refused, saying how to enable them', () => {
    expect(() => resolveMediaFile(undefined, `file://${root}/clip.mp4`)).toThrow(NO_MEDIA_ROOT);
    expect(NO_MEDIA_ROOT).toMatch(/--media-root DIR \(or SIE_MEDIA_ROOT=DIR\)/);
  });

  it('openMediaRoot refuses a missing root or a file', () => {
    expect(() => openMediaRoot(join(outer, 'nope'))).toThrow(/does not exist/);
    expect(() => openMediaRoot(join(root, 'clip.mp4'))).toThrow(/not a directory/);
  });
});

describe("the engine's source check (rows may come from plain SQL)", () => {
  it.each([
    ['file:///etc/passwd', root, /^source_url: \/etc\/passwd is outside the media root/],
    [`file://${join(outer, 'root', 'passwd')}`, root, /through a symbolic link/],
    ['concat:/etc/passwd|/etc/hosts', root, /^source_url: expected rtsp:\/\/, rtsps:\/\/ or file:/],
    ['http://127.0.0.1/x.mp4', root, /^source_url: expected/],
    [`file://${join(outer, 'root', 'clip.mp4')}`, undefined, /file sources are disabled/],
  ])('%s → config_invalid', (url, mediaRoot, why) => {
    let err: unknown;
    try {
      sourceFromUrl(url, mediaRoot);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigInvalidError);
    expect((err as Error).message).toMatch(why);
  });

  it('an RTSP URL passes as it is; a good file by its real path', () => {
    expect(sourceFromUrl('rtsp://u:p@cam/x', undefined).url).toBe('rtsp://u:p@cam/x');
    expect(sourceFromUrl(`file://${join(outer, 'root-link', 'clip.mp4')}`, root).url).toBe(join(root, 'clip.mp4'));
  });
});
