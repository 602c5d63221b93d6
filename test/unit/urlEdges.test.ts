import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runCreateSchema } from '../../src/io/http/schemas.js';
import { webhookConfigSchema } from '../../src/config/webhook.js';
import { engineOptionsSchema } from '../../src/cli/engine.js';
import { urlInputProblem } from '../../src/urlCheck.js';

/**
 * Every edge that takes a URL with credentials refuses the same URLs with the same reason, through the
 * one rule in src/urlCheck.ts: the API's source_url, a config's webhook.url and the CLI's --mqtt-url.
 */
const edges: [string, (url: string) => string | undefined][] = [
  ['source_url', (url) => issue(runCreateSchema.safeParse({ client_id: 'acme', config_id: randomUUID(), source_url: url }))],
  ['webhook.url', (url) => issue(webhookConfigSchema.safeParse({ url }))],
  ['--mqtt-url', (url) => issue(engineOptionsSchema.safeParse({ 'mqtt-url': url }))],
];

function issue(r: { success: boolean; error?: { issues: { message: string }[] } }): string | undefined {
  return r.success ? undefined : r.error!.issues[0]!.message;
}

describe.each(edges)('%s', (name, refusal) => {
  const scheme = name === 'source_url' ? 'rtsp' : name === 'webhook.url' ? 'http' : 'mqtt';
  it.each([
    // Issue 4: well-formed %XX escapes that do not decode as UTF-8. Accepted before, such a webhook URL
    // failed at every delivery (decodeURIComponent: URI malformed).
    `${scheme}://u:%C3@127.0.0.1:9/x`,
    `${scheme}://u%E2%82:pw@127.0.0.1:9/x`,
    `${scheme}://u:p@ssW0rdX@127.0.0.1:9/x`,
    `${scheme}://u:p"ss@127.0.0.1:9/x`,
  ])('refuses %s with urlInputProblem\'s reason, quoting none of it', (url) => {
    const why = refusal(url);
    expect(why).toBeDefined();
    expect(why).toBe(urlInputProblem(url));
    expect(why).not.toMatch(/ssW0rdX|%C3|%E2|"/);
  });

  it('accepts a password whose escapes decode', () => {
    expect(refusal(`${scheme}://u:p%C3%A9%40ss@127.0.0.1:9/x`)).toBeUndefined();
  });
});
