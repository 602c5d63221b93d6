import { mkdtemp, rm } from 'node:fs/promises';
import net, { type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InternalError } from '../../errors.js';

/**
 * Why ffmpeg #1 writes its frames to a Unix socket and not to a pipe: Node reads a child's stdout pipe
 * into a fresh 64 KB Buffer per read, ~3 MB of external memory per 1080p frame, 75 MB/s at 25 fps, and V8
 * answers that with Mark-Compacts ("GC in old space requested") and scavenges ("external memory pressure")
 * several times a second: 5.3% of the main thread's profile plus ~130 ms/s on V8's helper threads, about
 * 6 ms of CPU per frame (`node --trace-gc`, `--cpu-prof`, live 1080p run). A child's pipe cannot be read
 * into buffers of our own, a net.Socket can (`onread`): the kernel copies the bytes straight into the frame
 * buffers of the run's pool, and nothing is allocated per read (3 GCs instead of 35 for 500 frames).
 *
 * The socket is connected to ourselves: a server listens, we connect (the reading end, with `onread`),
 * the accepted end becomes the child's stdout. It listens on a path in a fresh directory only its owner may
 * enter (mkdtemp, mode 0700), so no other user can connect in between and read or feed the video; the
 * path is gone as soon as the one connection is made. A Linux abstract name would leave no file behind,
 * but any process on the host may connect to one.
 */
export class FrameSocketError extends InternalError {}

/** Where the bytes go. Both are called from inside the socket's read callback, in order. */
export interface FrameSink {
  /**
   * Where the next read lands (it writes at most `length` bytes at its start). Called once when the
   * socket opens and again after every read, so it may already point into the next frame.
   */
  buffer(): Buffer;
  /** `nread` bytes were written at the start of `buf`, the last buffer() returned. false pauses reading. */
  onRead(nread: number, buf: Buffer): boolean;
}

export class FrameSocket {
  /** Resolves once the child's end is closed and all it wrote was read, or the socket failed or was destroyed. */
  readonly ended: Promise<Error | undefined>;
  private childEnd: Socket | undefined;

  private constructor(
    private readonly reader: Socket,
    childEnd: Socket,
  ) {
    this.childEnd = childEnd;
    let failure: Error | undefined;
    reader.on('error', (err) => (failure = err));
    this.ended = new Promise((resolve) => reader.once('close', () => resolve(failure)));
  }

  /** A connected pair: our reading end feeding `sink`, and the end to hand to the child (forChild). */
  static async open(sink: FrameSink): Promise<FrameSocket> {
    let dir: string | undefined;
    let reader: Socket | undefined;
    const server = net.createServer({ pauseOnConnect: true });
    try {
      dir = await mkdtemp(join(tmpdir(), 'sie-frames-'));
      const path = join(dir, 'out');
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, resolve);
      });
      const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
      const connecting = net.connect({ path, onread: { buffer: () => sink.buffer(), callback: (n, buf) => sink.onRead(n, buf as Buffer) } });
      reader = connecting;
      const childEnd = await Promise.race([
        accepted,
        new Promise<never>((_, reject) => connecting.once('error', reject)),
        new Promise<never>((_, reject) => server.once('error', reject)),
      ]);
      return new FrameSocket(connecting, childEnd);
    } catch (err) {
      reader?.destroy();
      throw new FrameSocketError(`cannot open the decoder's frame socket: ${(err as Error).message}`, { cause: err });
    } finally {
      // Closing the server unlinks the socket's path; the connection made stays.
      server.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  }

  /** The end the child writes to: the `stdout` of ManagedProcess. */
  get forChild(): Socket {
    if (!this.childEnd) throw new FrameSocketError('the frame socket was already handed to a child');
    return this.childEnd;
  }

  /**
   * Call right after spawning the child (whether or not it started): closes our copy of its end, so the
   * reader sees EOF when the child exits, or at once when it never ran (ENOENT).
   */
  releaseChildEnd(): void {
    this.childEnd?.destroy();
    this.childEnd = undefined;
  }

  /** Stop reading (the child blocks once the socket's buffers are full). */
  pause(): void {
    this.reader.pause();
  }

  resume(): void {
    this.reader.resume();
  }

  /** Close both ends now; whatever is unread is lost. */
  destroy(): void {
    this.releaseChildEnd();
    this.reader.destroy();
  }
}
