import { z } from 'zod';
import { redactText } from '../redact.js';
import { unambiguousUrl } from '../urlCheck.js';

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** Set by the deliverer itself; a config may not override them (the receiver's dedup relies on the key). */
const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'host', 'idempotency-key', 'transfer-encoding', 'connection']);
/** RFC 9110 token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * `webhook` section: where a run's events are POSTed (at least once, `Idempotency-Key: <event id>`).
 * The URL may carry credentials and header values may be tokens: both are redacted wherever shown.
 */
export const webhookConfigSchema = z
  .object({
    url: unambiguousUrl(z.string().max(2048))
      .refine(isHttpUrl, 'expected http://host/… or https://host/…')
      .describe('receiver of the events, one JSON event per POST (credentials allowed; never shown back)'),
    headers: z
      .record(z.string(), z.string().max(4096).refine((v) => !/[\r\n\0]/.test(v), 'no line breaks'))
      // Keys are checked here rather than by the record's key schema: zod reports a bad key only as
      // "Invalid key in record", and the client needs to know which rule it broke.
      .superRefine((h, ctx) => {
        const names = Object.keys(h);
        if (names.length > 20) ctx.addIssue({ code: 'custom', message: 'at most 20 headers' });
        for (const n of names) {
          if (!HEADER_NAME.test(n)) ctx.addIssue({ code: 'custom', path: [n], message: 'not a valid header name' });
          else if (RESERVED_HEADERS.has(n.toLowerCase())) ctx.addIssue({ code: 'custom', path: [n], message: 'set by sie itself' });
        }
      })
      .optional()
      .describe('extra request headers, e.g. Authorization (values never shown back)'),
    timeout_s: z.number().min(0.5).max(60).default(5).describe('no answer by then: the attempt failed and is retried later'),
  })
  .strict();

export type WebhookConfig = z.infer<typeof webhookConfigSchema>;

/** What a response or a log may show of a webhook: the URL without its password, header names only. */
export function redactWebhook(w: WebhookConfig): WebhookConfig {
  const out: WebhookConfig = { url: redactText(w.url), timeout_s: w.timeout_s };
  if (w.headers) out.headers = Object.fromEntries(Object.keys(w.headers).map((k) => [k, '***']));
  return out;
}
