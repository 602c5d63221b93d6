import { z } from 'zod';

/**
 * The wall clock of a replay. Events carry `time` = the first frame's time + the frame's pts, so a replay is
 * deterministic whatever the day it runs on, as long as that first time comes from the file or the command
 * line, never from the machine's clock.
 */

/** --start-time: a zone is required, as a local time would give other events on a machine in another zone. */
export const startTimeSchema = z.iso
  .datetime({ offset: true, message: 'expected an ISO 8601 date and time with its zone, e.g. 2024-05-01T12:00:00Z or 2024-05-01T14:00:00+02:00' })
  .describe("the wall time of the file's first frame, for the events' `time`");

/** Where the replay's first frame time came from. */
export type ReplayClockSource = 'start-time' | 'creation_time' | 'epoch';

export interface ReplayClock {
  /** Milliseconds since the epoch of the first frame. */
  startedAtMs: number;
  source: ReplayClockSource;
  /** The file's creation_time when it was there but could not be read as a date. */
  unreadableCreationTime?: string;
}

/**
 * --start-time when given (the operator knows better than a tag, which may be the time of a transcode),
 * else the file's creation_time, else the epoch: the same file and options always give the same clock.
 */
export function chooseReplayClock(o: { startTime?: string; creationTime?: string }): ReplayClock {
  if (o.startTime !== undefined) return { startedAtMs: Date.parse(o.startTime), source: 'start-time' };
  if (o.creationTime !== undefined) {
    const ms = Date.parse(o.creationTime);
    if (Number.isFinite(ms)) return { startedAtMs: ms, source: 'creation_time' };
    return { startedAtMs: 0, source: 'epoch', unreadableCreationTime: o.creationTime };
  }
  return { startedAtMs: 0, source: 'epoch' };
}

/** One line for the start of a replay: when its events are dated, and why. */
export function describeReplayClock(c: ReplayClock): string {
  const at = new Date(c.startedAtMs).toISOString();
  switch (c.source) {
    case 'start-time':
      return `event times start at ${at} (--start-time)`;
    case 'creation_time':
      return `event times start at ${at} (the file's creation_time)`;
    case 'epoch':
      return c.unreadableCreationTime !== undefined
        ? `event times start at ${at}: the file's creation_time "${c.unreadableCreationTime}" is not a date; --start-time sets the first frame's time`
        : `event times start at ${at}: the file has no creation_time; --start-time sets the first frame's time`;
  }
}

/** For `sie replay --help`: how the events are dated. */
export const replayStartTimeHelp = `  Event times: the first frame at --start-time (ISO 8601 with a zone: 2024-05-01T12:00:00Z), else at the
  file's creation_time (its metadata, as ffprobe shows it), else at 1970-01-01T00:00:00Z; then the frame's
  pts. Never the machine's clock: the same file and options always give the same events. Progress goes to
  stderr: one updating line on a terminal, a line every 5 s otherwise.`;
