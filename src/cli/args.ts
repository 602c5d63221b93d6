import { z } from 'zod';

/** CLI errors: printed as one line naming the bad option, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Validates parsed options with a zod schema; the first problem names the option. */
export function parseOptions<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const name = issue.path.map(String).join('.');
    throw new UsageError(`--${name}: ${issue.message}`);
  }
  return r.data;
}

export const portSchema = z.coerce.number().int().min(0).max(65535);
export const sizeSchema = z
  .string()
  .regex(/^\d{2,5}x\d{2,5}$/, 'expected WIDTHxHEIGHT, e.g. 1920x1080')
  .transform((s) => {
    const [w, h] = s.split('x').map(Number) as [number, number];
    return { width: w, height: h };
  })
  .refine((g) => g.width % 2 === 0 && g.height % 2 === 0, 'width and height must be even');
