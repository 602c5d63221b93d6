/**
 * Signs of life for a long replay, on stderr (stdout keeps the summary a script may parse): on a terminal
 * one line rewritten in place a few times a second, elsewhere (a log, CI) one plain line every few seconds.
 */

/** Where progress goes: process.stderr, or a fake in tests. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** How far a replay is, after a frame went through every stage. */
export interface ReplayProgressSnapshot {
  /** Frames done so far. */
  frames: number;
  /** The latest frame's pts, seconds. */
  ptsS: number;
  /** Events so far. */
  events: number;
}

export interface ReplayProgressOptions {
  stream: ProgressStream;
  /** The file's duration in seconds, for the percentage; unknown: seconds of video instead. */
  durationS: number | undefined;
  /** The file's first pts, seconds (progress counts from there). */
  startS: number;
  /** Off a terminal: a line every this many seconds (default 5). */
  intervalS?: number;
  /** Milliseconds, monotonic (performance.now by default). */
  now?: () => number;
}

/** On a terminal: rewrites are this far apart at least, so a fast replay does not spend its time printing. */
const TTY_REFRESH_MS = 250;

export class ReplayProgress {
  private readonly now: () => number;
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private firstAt: { ms: number; frames: number } | undefined;
  private lastWrittenMs: number | undefined;
  private last: ReplayProgressSnapshot | undefined;
  /** A rewritten line is on screen (and needs a newline before anything else is printed). */
  private lineOpen = false;

  constructor(private readonly o: ReplayProgressOptions) {
    this.now = o.now ?? (() => performance.now());
    this.tty = o.stream.isTTY === true;
    this.intervalMs = (o.intervalS ?? 5) * 1000;
  }

  /** After each frame; writes when a line is due. */
  update(s: ReplayProgressSnapshot): void {
    const t = this.now();
    this.last = s;
    if (this.firstAt === undefined) {
      // The clock for fps starts at the first frame: the model's loading is not the replay's speed.
      this.firstAt = { ms: t, frames: s.frames };
      this.lastWrittenMs = t;
      return;
    }
    if (t - this.lastWrittenMs! < (this.tty ? TTY_REFRESH_MS : this.intervalMs)) return;
    this.lastWrittenMs = t;
    this.write(s, t);
  }

  /** At the end of the file: the last state once more, "done" and 100% (the last frame starts a frame
   *  before the end), ended with a newline on a terminal. */
  finish(): void {
    if (this.last) this.write(this.last, this.now(), true);
    if (this.lineOpen) this.o.stream.write('\n');
    this.lineOpen = false;
  }

  /** On failure: only closes the line on screen, so the error starts on a line of its own. */
  abandon(): void {
    if (this.lineOpen) this.o.stream.write('\n');
    this.lineOpen = false;
  }

  /** "412 frames, 52% of 79.5 s, 37.8 fps, 9 events so far" */
  line(s: ReplayProgressSnapshot, t: number, finished = false): string {
    const done = Math.max(0, s.ptsS - this.o.startS);
    const percent = (d: number) => (finished ? 100 : Math.min(99, Math.floor((done / d) * 100)));
    const where =
      this.o.durationS !== undefined && this.o.durationS > 0
        ? `${percent(this.o.durationS)}% of ${this.o.durationS.toFixed(1)} s`
        : `${done.toFixed(1)} s of video`;
    const first = this.firstAt ?? { ms: t, frames: s.frames };
    const elapsedS = (t - first.ms) / 1000;
    const fps = elapsedS > 0 ? `${((s.frames - first.frames) / elapsedS).toFixed(1)} fps` : '– fps';
    return `${s.frames} frames, ${where}, ${fps}, ${s.events} event${s.events === 1 ? '' : 's'} so far`;
  }

  private write(s: ReplayProgressSnapshot, t: number, finished = false): void {
    const text = `replay: ${finished ? 'done: ' : ''}${this.line(s, t, finished)}`;
    if (this.tty) {
      // Carriage return and erase-to-end-of-line: the line is replaced, whatever its previous length.
      this.o.stream.write(`\r\x1b[K${text}`);
      this.lineOpen = true;
    } else {
      this.o.stream.write(`${text}\n`);
    }
  }
}
