import { describe, expect, it } from 'vitest';
import { configBodySchema } from '../../src/config/body.js';
import { describeZodError } from '../../src/config/zodError.js';
import { redactWebhook, webhookConfigSchema } from '../../src/config/webhook.js';

const parse = (webhook: unknown) => configBodySchema.safeParse({ rules: [], webhook });
const problem = (webhook: unknown): string => {
  const r = parse(webhook);
  if (r.success) throw new Error('expected a validation error');
  return describeZodError(r.error);
};

describe('config: webhook section', () => {
  it('is optional; timeout_s defaults to 5', () => {
    const none = configBodySchema.parse({ rules: [] });
    expect(none.webhook).toBeUndefined();
    expect(parse({ url: 'https://hooks.example.com/sie' }).data?.webhook).toEqual({ url: 'https://hooks.example.com/sie', timeout_s: 5 });
  });

  it('takes http(s) URLs with credentials, up to 20 headers, timeout 0.5..60', () => {
    const ok = parse({ url: 'http://u:p@10.0.0.2:8080/x', headers: { Authorization: 'Bearer t' }, timeout_s: 0.5 });
    expect(ok.success).toBe(true);
    expect(parse({ url: 'https://h/x', timeout_s: 60 }).success).toBe(true);
  });

  it.each([
    [{ url: 'ftp://h/x' }, /^webhook\.url: expected http/],
    [{ url: 'not a url' }, /^webhook\.url: /],
    [{ url: 'https://h/x', timeout_s: 0.1 }, /^webhook\.timeout_s: /],
    [{ url: 'https://h/x', timeout_s: 61 }, /^webhook\.timeout_s: /],
    [{ url: 'https://h/x', headers: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`x-h${i}`, 'v'])) }, /at most 20 headers/],
    [{ url: 'https://h/x', headers: { 'Idempotency-Key': 'k' } }, /set by sie itself/],
    [{ url: 'https://h/x', headers: { 'bad name': 'v' } }, /not a valid header name/],
    [{ url: 'https://h/x', headers: { 'x-a': 'v\r\nx-b: injected' } }, /no line breaks/],
    [{ url: 'https://h/x', retries: 3 }, /retries/],
  ])('refuses %j', (webhook, message) => {
    expect(problem(webhook)).toMatch(message);
  });

  it('redactWebhook hides the URL password and every header value', () => {
    const w = webhookConfigSchema.parse({ url: 'https://svc:hunter22@h/x', headers: { Authorization: 'Bearer abc' } });
    const shown = redactWebhook(w);
    expect(shown).toEqual({ url: 'https://svc:***@h/x', headers: { Authorization: '***' }, timeout_s: 5 });
    expect(JSON.stringify(shown)).not.toMatch(/hunter22|abc/);
  });
});
