import { SourceInvalidError, SourceLostError, SourceUnreachableError, type SieError } from '../../errors.js';

/**
 * Turns how ffmpeg #1 ended into a named error. `hadFrames` separates "could not connect" (the run fails
 * at once) from "lost while running" (the run retries). The message quotes ffmpeg's own last words,
 * already redacted.
 */
export function classifyDecoderExit(stderr: readonly string[], hadFrames: boolean, code: number | null): SieError {
  const text = stderr.join('\n');
  const last = lastMeaningfulLine(stderr);
  if (!hadFrames) {
    if (/401 Unauthorized/i.test(text)) return new SourceUnreachableError(`source refused our credentials (401 Unauthorized)`);
    if (/404 Not Found/i.test(text)) return new SourceUnreachableError(`source path not found (404): ${last}`);
    if (/No such file or directory/i.test(text)) return new SourceUnreachableError(`source file not found: ${last}`);
    if (/Connection refused/i.test(text)) return new SourceUnreachableError(`source refused the connection: ${last}`);
    if (/timed out|Operation timed out|No route to host|Network is unreachable|Name or service not known|Temporary failure in name resolution/i.test(text)) {
      return new SourceUnreachableError(`source not reachable: ${last}`);
    }
    if (/Invalid data found|does not contain any stream|Output file #0 does not contain any stream|Stream map .* matches no streams/i.test(text)) {
      return new SourceInvalidError(`source has no decodable video: ${last}`);
    }
    return new SourceUnreachableError(`source could not be opened (ffmpeg exit ${code}): ${last}`);
  }
  return new SourceLostError(`source connection lost (ffmpeg exit ${code}): ${last}`);
}

function lastMeaningfulLine(lines: readonly string[]): string {
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!.trim();
    if (l && !/^(frame=|size=|video:|\[Parsed_metadata|Press \[q\])/.test(l) && !/^sie=/.test(l.replace(/^\[.*?\]\s*/, ''))) return l;
  }
  return 'no output from ffmpeg';
}
