import { z } from 'zod';

/** `90`, `90s`, `30m` or `1h` (also `1.5m`) → seconds. */
export function parseDurationS(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h)?$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * (unit === 'h' ? 3600 : unit === 'm' ? 60 : 1);
}

/** A CLI duration option: positive, with an s/m/h unit (seconds without one). */
export const durationSchema = z
  .string()
  .transform((s, ctx) => {
    const v = parseDurationS(s);
    if (v === undefined || v <= 0) {
      ctx.addIssue({ code: 'custom', message: 'expected a duration like 90s, 30m or 1h' });
      return z.NEVER;
    }
    return v;
  });
