import type { z } from 'zod';

/** One readable line per problem: `rules.0.zone: expected array` — what API errors and the CLI print. */
export function describeZodError(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
}
