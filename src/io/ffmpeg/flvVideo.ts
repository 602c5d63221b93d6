import { InternalError } from '../../errors.js';

/**
 * ffmpeg #2's pipe output is not what FLV says it is (a bad signature, a size that does not add up, a codec
 * other than H.264): our own encoder's bytes, so our bug or a broken ffmpeg, never the user's.
 */
export class FlvFormatError extends InternalError {}

const FILE_HEADER_SIZE = 9;
const TAG_HEADER_SIZE = 11;
/** Every tag is followed by PreviousTagSize (uint32 BE) = 11 + its data size; the file header by a 0. */
const PREVIOUS_TAG_SIZE = 4;
const TAG_AUDIO = 8;
const TAG_VIDEO = 9;
const TAG_SCRIPT = 18;
const CODEC_AVC = 7;
/** Frame type 5: a video info/command frame, carrying no picture. */
const FRAME_TYPE_COMMAND = 5;
const AVC_SEQUENCE_HEADER = 0;
const AVC_NALU = 1;
const AVC_END_OF_SEQUENCE = 2;
/** A file header announcing more than this before the first tag is garbage, not FLV. */
const MAX_HEADER_SIZE = 1 << 16;

const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_PPS = 8;
const NAL_AUD = 9;
const nalType = (n: Buffer): number => (n[0] ?? 0) & 0x1f;

/** What an AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1) tells us: copies, kept for the stream's life. */
export interface AvcConfig {
  sps: Buffer[];
  pps: Buffer[];
  /** Bytes of each NAL unit's length prefix in the NALU tags: 1, 2 or 4 (ffmpeg writes 4). */
  lengthSize: number;
}

type Phase = 'fileHeader' | 'headerRest' | 'tagHeader' | 'tagBody';

/**
 * Streaming FLV demuxer for the video of ffmpeg #2 (`-f flv pipe:1`, H.264 only): push() takes chunks cut
 * anywhere; each AVC NALU tag becomes one access unit at once (the tag says its size, so no waiting for the
 * next picture as an Annex B splitter must), as NAL units without length prefixes, AUDs dropped.
 *
 * An IDR access unit always begins with SPS and PPS, taken from the access unit itself when it carries them,
 * else from the configuration record: with FLV, ffmpeg has libx264 put them in that record only, and the
 * RTSP mount caches a GOP from the keyframe for late readers, who cannot start without them.
 *
 * NAL units are views of the pushed chunk when their tag lies within it (no copy); a tag split across
 * chunks is gathered into one buffer of its size, so each byte is copied at most once. The chunks must not
 * be reused by the caller (a stream's 'data' chunks never are). Script (onMetaData) and audio tags are
 * skipped. A malformed stream throws FlvFormatError, from that push on every later one too.
 */
export class FlvVideoDemuxer {
  private phase: Phase = 'fileHeader';
  /** Bytes the current phase needs as one piece. */
  private need = FILE_HEADER_SIZE;
  /** The piece being gathered across chunks, when one did not hold it whole. */
  private partial: Buffer | undefined;
  private filled = 0;
  private tagType = 0;
  private failure: FlvFormatError | undefined;
  private avc: AvcConfig | undefined;

  constructor(private readonly onAccessUnit: (nalus: Buffer[]) => void) {}

  /** The latest configuration record, once one arrived. */
  get config(): AvcConfig | undefined {
    return this.avc;
  }

  /** Bytes received but not yet part of a whole header or tag (a tag cut short at the end of a stream). */
  get pendingBytes(): number {
    return this.partial ? this.filled : 0;
  }

  push(chunk: Buffer): void {
    if (this.failure) throw this.failure;
    let pos = 0;
    while (pos < chunk.length) {
      let piece: Buffer;
      if (this.partial) {
        const n = Math.min(this.need - this.filled, chunk.length - pos);
        chunk.copy(this.partial, this.filled, pos, pos + n);
        this.filled += n;
        pos += n;
        if (this.filled < this.need) return;
        piece = this.partial;
        this.partial = undefined;
      } else if (chunk.length - pos >= this.need) {
        piece = chunk.subarray(pos, pos + this.need);
        pos += this.need;
      } else {
        this.partial = Buffer.allocUnsafe(this.need);
        this.filled = chunk.copy(this.partial, 0, pos);
        return;
      }
      try {
        this.consume(piece);
      } catch (err) {
        if (err instanceof FlvFormatError) this.failure = err;
        throw err;
      }
    }
  }

  /** One whole piece of the current phase; sets the next phase and how many bytes it needs. */
  private consume(piece: Buffer): void {
    switch (this.phase) {
      case 'fileHeader': {
        if (piece.toString('latin1', 0, 3) !== 'FLV') throw new FlvFormatError(`not an FLV stream: signature ${piece.subarray(0, 3).toString('hex')}`);
        const dataOffset = piece.readUInt32BE(5);
        if (dataOffset < FILE_HEADER_SIZE || dataOffset > MAX_HEADER_SIZE) throw new FlvFormatError(`FLV header size ${dataOffset} out of range`);
        // The rest of a longer header, then PreviousTagSize0: nothing we need.
        this.next('headerRest', dataOffset - FILE_HEADER_SIZE + PREVIOUS_TAG_SIZE);
        return;
      }
      case 'headerRest':
        this.next('tagHeader', TAG_HEADER_SIZE);
        return;
      case 'tagHeader': {
        const b0 = piece[0]!;
        if (b0 & 0x20) throw new FlvFormatError('encrypted (filtered) FLV tag');
        this.tagType = b0 & 0x1f;
        if (this.tagType !== TAG_VIDEO && this.tagType !== TAG_AUDIO && this.tagType !== TAG_SCRIPT) {
          throw new FlvFormatError(`unknown FLV tag type ${this.tagType}`);
        }
        this.next('tagBody', piece.readUIntBE(1, 3) + PREVIOUS_TAG_SIZE);
        return;
      }
      case 'tagBody': {
        const size = piece.length - PREVIOUS_TAG_SIZE;
        const previous = piece.readUInt32BE(size);
        if (previous !== TAG_HEADER_SIZE + size) throw new FlvFormatError(`PreviousTagSize ${previous} after a tag of ${TAG_HEADER_SIZE + size} bytes`);
        if (this.tagType === TAG_VIDEO) this.video(piece.subarray(0, size));
        this.next('tagHeader', TAG_HEADER_SIZE);
        return;
      }
    }
  }

  private next(phase: Phase, need: number): void {
    this.phase = phase;
    this.need = need;
  }

  private video(data: Buffer): void {
    if (data.length < 1) throw new FlvFormatError('empty video tag');
    const b0 = data[0]!;
    // Enhanced FLV (bit 7: an ExHeader with a FourCC) is how ffmpeg writes HEVC/AV1: not ours to read.
    if (b0 & 0x80 || (b0 & 0x0f) !== CODEC_AVC) throw new FlvFormatError(`video tag of codec ${b0 & 0x0f}${b0 & 0x80 ? ' (enhanced FLV)' : ''}, not H.264 (7)`);
    if (b0 >> 4 === FRAME_TYPE_COMMAND) return;
    if (data.length < 5) throw new FlvFormatError(`AVC video tag of ${data.length} bytes, shorter than its 5-byte header`);
    // data[2..4]: composition time offset, 0 without B-frames; the output clock has the pictures' times.
    const packetType = data[1]!;
    const body = data.subarray(5);
    if (packetType === AVC_SEQUENCE_HEADER) this.avc = parseAvcConfig(body);
    else if (packetType === AVC_NALU) this.onAccessUnit(this.accessUnit(body));
    else if (packetType !== AVC_END_OF_SEQUENCE) throw new FlvFormatError(`unknown AVCPacketType ${packetType}`);
  }

  private accessUnit(body: Buffer): Buffer[] {
    const avc = this.avc;
    if (!avc) throw new FlvFormatError('AVC NAL units before the AVCDecoderConfigurationRecord');
    const nalus: Buffer[] = [];
    let idr = false;
    for (let pos = 0; pos < body.length; ) {
      if (pos + avc.lengthSize > body.length) throw new FlvFormatError(`NAL unit length prefix cut by the end of the tag (at ${pos} of ${body.length})`);
      const len = body.readUIntBE(pos, avc.lengthSize);
      pos += avc.lengthSize;
      if (pos + len > body.length) throw new FlvFormatError(`NAL unit of ${len} bytes past the end of the tag (at ${pos} of ${body.length})`);
      const nal = body.subarray(pos, pos + len);
      pos += len;
      if (len === 0 || nalType(nal) === NAL_AUD) continue;
      if (nalType(nal) === NAL_IDR) idr = true;
      nalus.push(nal);
    }
    return idr ? withParameterSetsFirst(nalus, avc) : nalus;
  }
}

/** An IDR access unit as SPS…, PPS…, then its other NAL units in order; in-band parameter sets win over the record's. */
function withParameterSetsFirst(nalus: Buffer[], avc: AvcConfig): Buffer[] {
  const sps = nalus.filter((n) => nalType(n) === NAL_SPS);
  const pps = nalus.filter((n) => nalType(n) === NAL_PPS);
  const rest = nalus.filter((n) => nalType(n) !== NAL_SPS && nalType(n) !== NAL_PPS);
  return [...(sps.length ? sps : avc.sps), ...(pps.length ? pps : avc.pps), ...rest];
}

/** AVCDecoderConfigurationRecord: version 1, profile, compatibility, level, lengthSizeMinusOne, SPS and PPS lists. */
export function parseAvcConfig(rec: Buffer): AvcConfig {
  const short = (): never => {
    throw new FlvFormatError(`AVCDecoderConfigurationRecord of ${rec.length} bytes is cut short`);
  };
  if (rec.length < 7) short();
  if (rec[0] !== 1) throw new FlvFormatError(`AVCDecoderConfigurationRecord version ${rec[0]}, not 1`);
  const lengthSize = (rec[4]! & 0x03) + 1;
  if (lengthSize === 3) throw new FlvFormatError('AVCDecoderConfigurationRecord with 3-byte NAL lengths');
  let pos = 5;
  const list = (count: number): Buffer[] => {
    const out: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      if (pos + 2 > rec.length) short();
      const len = rec.readUInt16BE(pos);
      pos += 2;
      if (pos + len > rec.length) short();
      // A copy: the record outlives the chunk it came in, and these go into every IDR access unit.
      out.push(Buffer.from(rec.subarray(pos, pos + len)));
      pos += len;
    }
    return out;
  };
  const sps = list(rec[pos++]! & 0x1f);
  if (pos >= rec.length) short();
  const pps = list(rec[pos++]!);
  // High profiles append chroma format and bit depths (and SPS extensions): not needed here.
  if (sps.length === 0 || pps.length === 0) throw new FlvFormatError(`AVCDecoderConfigurationRecord with ${sps.length} SPS and ${pps.length} PPS`);
  return { sps, pps, lengthSize };
}
