import { isAud, isVcl, startsAccessUnit } from './nal.js';
import type { VideoCodec } from './types.js';

const START_CODE = Buffer.from([0, 0, 1]);

/**
 * Streaming splitter for an Annex-B byte stream (ffmpeg `-f h264 -` / `-f hevc -` stdout, ideally with
 * `-bsf:v h264_metadata=aud=insert` / `hevc_metadata=aud=insert`). push() takes chunks cut anywhere,
 * even inside a start code; onAccessUnit gets the NAL units of each complete access unit, start codes
 * and AUD NAL units stripped. An AU is complete when the next one begins: at an AUD, or (for streams
 * without AUD) at a parameter set/SEI or first slice of a picture following a picture's slices.
 * flush() emits the pending AU at end of stream.
 */
export class AccessUnitSplitter {
  private buf: Buffer = Buffer.alloc(0);
  /** Offset in buf of the NAL unit being collected (just after its start code); -1 before the first start code. */
  private nalStart = -1;
  /** Where the start-code search resumes, so each byte is scanned about once. */
  private scanPos = 0;
  private au: Buffer[] = [];
  private auHasVcl = false;

  constructor(
    private readonly codec: VideoCodec,
    private readonly onAccessUnit: (nalus: Buffer[]) => void,
  ) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      const i = this.buf.indexOf(START_CODE, this.scanPos);
      if (i < 0) break;
      if (this.nalStart >= 0) this.onNal(this.buf.subarray(this.nalStart, i));
      this.nalStart = i + 3;
      this.scanPos = i + 3;
    }
    // The last two bytes may be the start of a start code split across chunks: rescan them next time.
    this.scanPos = Math.max(this.scanPos, this.buf.length - 2, 0);
    // Drop what is consumed; before the first start code everything but those two bytes is garbage.
    const keepFrom = this.nalStart >= 0 ? this.nalStart : this.scanPos;
    if (keepFrom > 0) {
      this.buf = this.buf.subarray(keepFrom);
      this.scanPos -= keepFrom;
      if (this.nalStart >= 0) this.nalStart = 0;
    }
  }

  /** End of stream: the last NAL unit and access unit are complete now. */
  flush(): void {
    if (this.nalStart >= 0) this.onNal(this.buf.subarray(this.nalStart));
    this.buf = Buffer.alloc(0);
    this.nalStart = -1;
    this.scanPos = 0;
    this.emit();
  }

  private onNal(raw: Buffer): void {
    // A NAL unit never ends in 0x00 (rbsp_stop_one_bit), so trailing zeros are the 4-byte start
    // code's leading zero or trailing_zero_8bits.
    let end = raw.length;
    while (end > 0 && raw[end - 1] === 0) end--;
    if (end === 0) return;
    // Copy: the subarray shares memory with a chunk we are about to let go of.
    const nal = Buffer.from(raw.subarray(0, end));
    if (isAud(this.codec, nal)) {
      this.emit();
      return;
    }
    if (this.auHasVcl && startsAccessUnit(this.codec, nal)) this.emit();
    this.au.push(nal);
    if (isVcl(this.codec, nal)) this.auHasVcl = true;
  }

  private emit(): void {
    if (this.au.length === 0) return;
    const au = this.au;
    this.au = [];
    this.auHasVcl = false;
    this.onAccessUnit(au);
  }
}
