import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { buildApi, type ApiOptions } from '../../../src/io/http/app.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

export { LABELS, MODEL } from '../../helpers/media.js';

export interface Harness {
  readonly db: TestDatabase;
  readonly app: FastifyInstance;
  readonly dataDir: string;
  close(): Promise<void>;
}

/** A fresh migrated database, a temp data dir and the API on them (not listening: use inject). */
export async function startApi(
  opts: Pick<ApiOptions, 'maxModelBytes' | 'mediaRoot' | 'publicRtspUrl' | 'modelObjects' | 'logger'> = {},
): Promise<Harness> {
  const db = await createTestDatabase();
  const dataDir = await mkdtemp(join(tmpdir(), 'sie-api-'));
  const app = await buildApi({ pool: db.pool, dataDir, ...opts });
  return {
    db,
    app,
    dataDir,
    async close() {
      await app.close();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Every regular file under dir (recursively), relative names; [] when dir does not exist. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

export const COCO_LIKE = ['person', 'bicycle', 'car'];

/** A model row straight in SQL (configs and runs tests need one, not the upload path). */
export async function insertModelRow(pool: Pool, labels: readonly string[] = COCO_LIKE, sha = `${Math.random()}`): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO models (name, format, sha256, file_path, labels_path, size_bytes, input_width, input_height, labels)
     VALUES ('m', 'yolox', $1, 'models/x.onnx', 'models/x.labels.txt', 1, 416, 416, $2::jsonb) RETURNING id`,
    [sha, JSON.stringify(labels)],
  );
  return rows[0]!.id;
}

export async function createConfig(app: FastifyInstance, body: Record<string, unknown>): Promise<{ id: string; version: number }> {
  const r = await app.inject({ method: 'POST', url: '/v1/configs', payload: { name: 'c', ...body } });
  if (r.statusCode !== 201) throw new Error(`config: ${r.statusCode} ${r.body}`);
  return r.json();
}

export async function createRun(app: FastifyInstance, body: Record<string, unknown>): Promise<Record<string, unknown> & { id: string }> {
  const r = await app.inject({ method: 'POST', url: '/v1/runs', payload: body });
  if (r.statusCode !== 201) throw new Error(`run: ${r.statusCode} ${r.body}`);
  return r.json();
}

/** Multipart body of POST /v1/models. */
export function modelForm(p: { file?: Buffer; labels?: string | Buffer; name?: string; format?: string; extra?: Record<string, string> }): FormData {
  const form = new FormData();
  if (p.name !== undefined) form.append('name', p.name);
  if (p.format !== undefined) form.append('format', p.format);
  for (const [k, v] of Object.entries(p.extra ?? {})) form.append(k, v);
  if (p.file) form.append('file', new Blob([p.file]), 'yolox_nano.onnx');
  if (p.labels !== undefined) form.append('labels', new Blob([p.labels]), 'labels.txt');
  return form;
}
