import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { openFrameTimingsLog, type FrameTimingsLog } from '../io/frameTimingsLog.js';
import type { Logger } from '../log.js';
import { UsageError } from './args.js';

/** `--frame-timings FILE` (sie run, sie engine, sie serve): written anew; its directory must exist. */
export const frameTimingsSchema = z
  .string()
  .min(1)
  .superRefine((path, ctx) => {
    const dir = dirname(resolve(path));
    if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) ctx.addIssue({ code: 'custom', message: `directory ${dir} does not exist` });
  });

/** What `--frame-timings FILE` writes, for the commands' --help. */
export const frameTimingsDescription =
  'write one JSON line per output frame to FILE (arrival, each stage, handed to the encoder, RTSP packets sent; epoch ms), as sie bench reads them';

/** Opens the file before anything starts: one that cannot be written is a usage error (exit 2), not a run's. */
export async function openFrameTimingsOption(path: string | undefined, logger: Logger): Promise<FrameTimingsLog | undefined> {
  if (path === undefined) return undefined;
  try {
    return await openFrameTimingsLog(resolve(path), { logger });
  } catch (err) {
    throw new UsageError(`--frame-timings: ${(err as Error).message}`);
  }
}
