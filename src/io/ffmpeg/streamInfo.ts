import type { DecodedStreamInfo } from '../../frame.js';

/**
 * What ffmpeg tells on stderr about the streams it opened. We read it instead of running ffprobe first:
 * a second connection to the camera would double start-up time and some cameras allow one client only.
 */
const STREAM_VIDEO = /^\s*Stream #\d+:\d+.*?: Video: (\w+)/;
const SIZE = /, (\d{2,5})x(\d{2,5})[,\s[]/;
const FPS = /, (\d+(?:\.\d+)?) fps/;
const TBR = /, (\d+(?:\.\d+)?)(k?) tbr/;

function rateOf(line: string): number | undefined {
  const fps = FPS.exec(line);
  if (fps) return Number(fps[1]);
  const tbr = TBR.exec(line);
  if (tbr) return Number(tbr[1]) * (tbr[2] === 'k' ? 1000 : 1);
  return undefined;
}

/** Feed stderr lines; `info` becomes defined once both the input and the output video stream were seen. */
export class StreamInfoParser {
  private section: 'none' | 'input' | 'output' = 'none';
  private inputCodec: string | undefined;
  private inputFps: number | undefined;
  info: DecodedStreamInfo | undefined;

  feed(line: string): DecodedStreamInfo | undefined {
    if (this.info) return undefined;
    if (/^Input #\d+/.test(line)) this.section = 'input';
    else if (/^Output #\d+/.test(line)) this.section = 'output';
    const m = STREAM_VIDEO.exec(line);
    if (!m) return undefined;
    if (this.section === 'input' && this.inputCodec === undefined) {
      this.inputCodec = m[1];
      this.inputFps = rateOf(line);
    } else if (this.section === 'output') {
      const size = SIZE.exec(line);
      if (!size) return undefined;
      const fps = this.inputFps ?? rateOf(line);
      this.info = {
        codec: this.inputCodec ?? 'unknown',
        width: Number(size[1]),
        height: Number(size[2]),
        // A source that states no rate: assume 25, the most common camera default; pts stay exact anyway.
        fps: fps && fps > 0 && fps <= 240 ? fps : 25,
      };
      return this.info;
    }
    return undefined;
  }
}

/** `[Parsed_metadata_1 @ 0x..] frame:12   pts:12288   pts_time:1.2` → [12, 1.2] */
const FRAME_PTS = /\] frame:(\d+)\s+pts:\S+\s+pts_time:(-?[\d.]+)/;

export function parseFramePts(line: string): [index: number, ptsS: number] | undefined {
  const m = FRAME_PTS.exec(line);
  if (!m) return undefined;
  const pts = Number(m[2]);
  return [Number(m[1]), Number.isFinite(pts) ? pts : 0];
}
