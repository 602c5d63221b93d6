import { readFile } from 'node:fs/promises';
import { configBodySchema, type ConfigBody } from './body.js';
import { describeZodError } from './zodError.js';
import { ConfigInvalidError } from '../errors.js';

/**
 * A config file for `sie run` and `sie replay`: the API's config document (what GET /v1/configs/{id}
 * answers, or what was POSTed), where the API-only fields (name, client_id, model_id, and the read-only id,
 * version and times) may be present and are set aside, and `webhook: null` means none. Returns the
 * validated body and the name.
 */
export async function loadConfigFile(path: string): Promise<{ body: ConfigBody; name?: string; clientId?: string }> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ConfigInvalidError(`config file ${path}: ${(err as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigInvalidError(`config file ${path}: expected a JSON object`);
  const { name, client_id: clientId, model_id: _modelId, id: _id, version: _version, created_at: _created, updated_at: _updated, ...rest } = raw as Record<string, unknown>;
  const { webhook, ...sections } = rest;
  const body = webhook === null ? sections : rest;
  const parsed = configBodySchema.safeParse(body);
  if (!parsed.success) throw new ConfigInvalidError(`config file ${path}: ${describeZodError(parsed.error)}`);
  return {
    body: parsed.data,
    name: typeof name === 'string' ? name : undefined,
    clientId: typeof clientId === 'string' ? clientId : undefined,
  };
}
