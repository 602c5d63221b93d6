import { execFile } from 'node:child_process';
import { resolveFfprobe } from '../io/ffmpeg/binary.js';

/** What `sie replay` wants to know of a file before it starts: how long it is and when it was recorded. */
export interface MediaFacts {
  /** The container's duration in seconds; undefined when ffprobe does not know it (a raw stream). */
  durationS: number | undefined;
  /** The container's first pts in seconds (0 for most mp4 files): where the progress starts. */
  startS: number;
  /** The container's `creation_time` tag as written (ISO 8601, usually UTC); undefined when absent. */
  creationTime: string | undefined;
}

interface FfprobeFormat {
  format?: { duration?: string; start_time?: string; tags?: Record<string, string> };
}

/** A number ffprobe printed, or undefined for "N/A", absent or nonsense. */
function finite(v: string | undefined): number | undefined {
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Reads the facts from ffprobe's format section (the JSON writer: tags keep their exact values). */
export function mediaFactsFromFfprobe(json: string): MediaFacts {
  const f = (JSON.parse(json) as FfprobeFormat).format ?? {};
  // Tag names are case-insensitive in practice (QuickTime writers differ); ffprobe keeps the writer's.
  const tags = Object.fromEntries(Object.entries(f.tags ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const creation = tags['creation_time']?.trim();
  return { durationS: finite(f.duration), startS: finite(f.start_time) ?? 0, creationTime: creation ? creation : undefined };
}

/**
 * ffprobe on the file (container only: it does not decode). A file ffprobe cannot read yields no facts
 * rather than an error: the decoder that follows says what is wrong with it, as it always has.
 */
export function probeMedia(path: string): Promise<MediaFacts> {
  const args = ['-v', 'error', '-print_format', 'json', '-show_format', path];
  return new Promise((resolve) => {
    execFile(resolveFfprobe(), args, { timeout: 30_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout) => {
      if (err) return resolve({ durationS: undefined, startS: 0, creationTime: undefined });
      try {
        resolve(mediaFactsFromFfprobe(stdout));
      } catch {
        resolve({ durationS: undefined, startS: 0, creationTime: undefined });
      }
    });
  });
}
