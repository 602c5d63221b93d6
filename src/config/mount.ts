import { z } from 'zod';

/**
 * An RTSP output mount path as a caller writes it (`--mount` of `sie run` and `sie camera`, a run's
 * `output.mount` in the API): stricter than the server's own check (validateMountPath in
 * src/io/rtsp/url.ts), so a path accepted here is always one the server takes.
 */
export const mountSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, 'letters, digits, - and _ in /-separated parts');
