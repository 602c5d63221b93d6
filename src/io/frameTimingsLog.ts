import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { FrameOutputTiming, FrameTimingSink } from '../pipeline/frameTimings.js';
import type { Logger } from '../log.js';

/** How far the file may fall behind the frames before lines are dropped: ~20k lines, minutes of frames. */
export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** The frame timings file (`--frame-timings FILE`): one JSON line per output frame, see frameTimingLine. */
export interface FrameTimingsLog extends FrameTimingSink {
  readonly path: string;
  /** Lines handed to the file. */
  readonly written: number;
  /** Lines not written: the disk was more than maxBufferedBytes behind, the file failed, or it was closed. */
  readonly dropped: number;
  /** Flushes what is buffered and closes the file; once. */
  close(): Promise<void>;
}

/** Milliseconds to the microsecond: finer than the clock means anything by, and the lines stay short. */
const ms = (x: number) => Math.round(x * 1000) / 1000;

/** One line of the file (with its newline), the fields in a fixed order. */
export function frameTimingLine(t: FrameOutputTiming): string {
  return (
    JSON.stringify({
      runId: t.runId,
      frameId: t.frameId,
      arrivedAtMs: ms(t.arrivedAtMs),
      stages: t.stages.map((s) => ({ stage: s.stage, waitMs: ms(s.waitMs), serviceMs: ms(s.serviceMs), startedAtMs: ms(s.startedAtMs) })),
      handedAtMs: ms(t.handedAtMs),
      sentAtMs: ms(t.sentAtMs),
    }) + '\n'
  );
}

/**
 * Opens (truncates) `path` and returns a sink that appends one line per timing without ever blocking the
 * event loop: the stream writes in the background, and while more than `maxBufferedBytes` wait for the
 * disk, lines are dropped and counted rather than queued without bound. Rejects when the file cannot be
 * opened.
 */
export async function openFrameTimingsLog(path: string, o: { logger: Logger; maxBufferedBytes?: number }): Promise<FrameTimingsLog> {
  const max = o.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const stream = createWriteStream(path, { flags: 'w' });
  await once(stream, 'open');
  let written = 0;
  let dropped = 0;
  let failed = false;
  let closing: Promise<void> | undefined;
  stream.on('error', (err) => {
    // Timings are a measurement, not the run's work: the runs go on without them.
    if (!failed) o.logger.error({ path, err: err.message }, 'frame timings file failed: no more lines are written');
    failed = true;
  });
  return {
    path,
    get written() {
      return written;
    },
    get dropped() {
      return dropped;
    },
    record(t) {
      if (closing || failed || stream.writableLength > max) {
        if (dropped++ === 0 && !closing && !failed) o.logger.warn({ path, buffered: stream.writableLength }, 'frame timings file behind: dropping lines');
        return;
      }
      stream.write(frameTimingLine(t));
      written++;
    },
    close() {
      closing ??= (async () => {
        stream.end();
        try {
          await finished(stream);
        } catch {
          // Already logged by the error listener.
        }
        o.logger.info({ path, written, dropped }, 'frame timings file closed');
      })();
      return closing;
    },
  };
}
