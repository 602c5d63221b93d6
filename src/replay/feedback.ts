import { replay, type ReplayOptions, type ReplayResult } from './replay.js';
import { probeMedia } from './probe.js';
import { chooseReplayClock, describeReplayClock } from './clock.js';
import { ReplayProgress, type ProgressStream } from './progress.js';

export interface ReplayWithFeedbackOptions extends Omit<ReplayOptions, 'startedAtMs' | 'onFrame'> {
  /** --start-time (validated by startTimeSchema): the first frame's wall time; wins over creation_time. */
  startTime?: string;
  /** The --config file the rules came from; undefined when none was given. */
  configFile?: string;
  /** Where the hints and the progress go (process.stderr by default). */
  stream?: ProgressStream;
  /** Off a terminal, a progress line every this many seconds (default 5). */
  progressIntervalS?: number;
}

/** What a user should know before a replay starts: what it will not write, and how its events are dated. */
export function replayHints(o: { out: string | undefined; rules: number; configFile: string | undefined; clock: string }): string[] {
  const hints: string[] = [];
  if (o.out === undefined) hints.push('no --out: no annotated video is written (--out FILE.mp4 writes one)');
  if (o.rules === 0) {
    hints.push(
      o.configFile === undefined
        ? 'no --config: no rules, so no events (--config FILE.json: a config document with rules, as the API takes it)'
        : `${o.configFile} has no rules: no events will come`,
    );
  }
  hints.push(o.clock);
  return hints;
}

/**
 * `sie replay` as a user meets it: the file probed first (duration for the progress, creation_time for the
 * clock), the hints, then the replay with its progress on `stream`. The events depend only on the file and
 * the options: the clock comes from --start-time or the file, the progress only watches.
 */
export async function replayWithFeedback(o: ReplayWithFeedbackOptions): Promise<ReplayResult> {
  const { startTime, configFile, stream = process.stderr, progressIntervalS, ...options } = o;
  const facts = await probeMedia(o.video);
  const clock = chooseReplayClock({ startTime, creationTime: facts.creationTime });
  for (const hint of replayHints({ out: o.out, rules: o.config.rules.length, configFile, clock: describeReplayClock(clock) })) {
    stream.write(`replay: ${hint}\n`);
  }
  const progress = new ReplayProgress({ stream, durationS: facts.durationS, startS: facts.startS, intervalS: progressIntervalS });
  try {
    const result = await replay({ ...options, startedAtMs: clock.startedAtMs, onFrame: (s) => progress.update(s) });
    progress.finish();
    return result;
  } catch (err) {
    progress.abandon();
    throw err;
  }
}
