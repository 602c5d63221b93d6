/**
 * The picture buffers of one run, reused: a 1080p frame is 3 MB, and a new one per frame at 25 fps is
 * 75 MB/s of garbage for the collector. A buffer goes back when its frame has been dropped, or written to
 * ffmpeg #2 and replaced by a newer picture. Buffers live in SharedArrayBuffers, so an inference worker
 * reads the pixels where they are. A buffer never released (a run stopping with frames in flight) is only
 * garbage, never reused: releasing is the one thing that must be exact.
 */
export class FramePool {
  private readonly free: Buffer[] = [];
  private size = 0;
  /** Buffers made (each one 3 MB at 1080p): stays at the frames in flight once the run has warmed up. */
  allocated = 0;
  reused = 0;

  /** @param maxFree buffers kept for reuse; more released at once are left to the collector. */
  constructor(private readonly maxFree = 24) {}

  acquire(size: number): Buffer {
    if (size !== this.size) {
      // Another geometry (not within a run, whose output size is fixed at the first connection): start over.
      this.free.length = 0;
      this.size = size;
    }
    const reused = this.free.pop();
    if (reused) {
      this.reused++;
      return reused;
    }
    this.allocated++;
    return Buffer.from(new SharedArrayBuffer(size));
  }

  /** The caller guarantees nothing reads or writes `pixels` any more. */
  release(pixels: Buffer): void {
    if (pixels.length !== this.size || this.free.length >= this.maxFree) return;
    this.free.push(pixels);
  }

  get freeCount(): number {
    return this.free.length;
  }
}
