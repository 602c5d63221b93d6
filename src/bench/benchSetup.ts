import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Pool } from 'pg';
import { createScratchDatabase, type ScratchDatabase } from '../io/db/scratch.js';
import { resolveFfmpeg, resolveFfprobe } from '../io/ffmpeg/binary.js';
import { loadLabels } from '../inference/modelSpec.js';
import { redactText } from '../redact.js';

const run = promisify(execFile);

export const SOAK_FPS = 10;
export const SOAK_HEIGHT = 576;

/**
 * The soak's cameras serve 576p at 10 fps. The given clip is used as it is when it already is that,
 * else a converted copy is made in `tmpDir` (media are never written anywhere else).
 */
export async function prepareMedia(file: string, tmpDir: string): Promise<{ file: string; converted: boolean; fps: number; height: number }> {
  const { stdout } = await run(resolveFfprobe(), [
    '-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=height,r_frame_rate', '-of', 'json', file,
  ]);
  const s = (JSON.parse(stdout) as { streams: { height: number; r_frame_rate: string }[] }).streams[0];
  if (!s) throw new Error(`${file} has no video stream`);
  const [num, den] = s.r_frame_rate.split('/').map(Number) as [number, number];
  const fps = den ? num / den : num;
  if (Math.abs(fps - SOAK_FPS) < 0.01 && s.height === SOAK_HEIGHT) return { file, converted: false, fps, height: s.height };
  const out = join(tmpDir, `soak-${SOAK_HEIGHT}p${SOAK_FPS}.mp4`);
  await run(resolveFfmpeg(), [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', file, '-an',
    '-vf', `fps=${SOAK_FPS},scale=-2:${SOAK_HEIGHT}`, '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', out,
  ]);
  return { file: out, converted: true, fps: SOAK_FPS, height: SOAK_HEIGHT };
}

/** The soak's database: its URL holds SIE_DATABASE_URL's password and is never printed, its name is. */
export type SoakDatabase = ScratchDatabase;

/** A database of its own (random name on SIE_DATABASE_URL's server), migrated; dropped at the end. */
export function createSoakDatabase(): Promise<SoakDatabase> {
  return createScratchDatabase('sie_soak', { max: 3, applicationName: 'sie-soak' });
}

/**
 * Drops a bench's database (the soak's, a capacity trial's); a failure is printed naming the database only (its URL holds the password
 * of SIE_DATABASE_URL) and its message redacted, so the operator can drop it by hand.
 */
export async function dropBenchDatabase(db: Pick<SoakDatabase, 'name' | 'drop'>, print: (text: string) => void): Promise<void> {
  try {
    await db.drop();
  } catch (err) {
    print(`bench: could not drop database ${db.name}: ${redactText((err as Error).message)}\n`);
  }
}

/** A config body as the API stores it; see src/config/body.ts. */
type ConfigJson = Record<string, unknown>;

/**
 * The model and one config using it, inserted with plain SQL as any service may (the documented
 * contract). The engine reads weights under its data dir: a symlink there points at the given file.
 * Returns the config's id.
 */
export async function insertModelAndConfig(
  pool: Pool,
  o: { dataDir: string; model: string; labels: string; clientId: string; body: ConfigJson },
): Promise<string> {
  mkdirSync(join(o.dataDir, 'models'), { recursive: true });
  const fileName = `models/${basename(o.model)}`;
  const labelsName = `models/${basename(o.labels)}`;
  symlinkSync(resolve(o.model), join(o.dataDir, fileName));
  symlinkSync(resolve(o.labels), join(o.dataDir, labelsName));
  const labels = await loadLabels(o.labels);
  const weights = readFileSync(o.model);
  const sha = createHash('sha256').update(weights).digest('hex');
  // input size is metadata for the API's listing; the detector reads the real one from the model.
  const m = await pool.query<{ id: string }>(
    `INSERT INTO models (name, format, sha256, file_path, labels_path, size_bytes, input_width, input_height, labels)
     VALUES ($1, 'yolox', $2, $3, $4, $5, 416, 416, $6) RETURNING id`,
    [basename(o.model), sha, fileName, labelsName, weights.length, JSON.stringify(labels)],
  );
  const modelId = m.rows[0]!.id;
  const c = await pool.query<{ id: string }>(`INSERT INTO configs (client_id, name, model_id, body) VALUES ($1, $1, $2, $3) RETURNING id`, [
    o.clientId,
    modelId,
    JSON.stringify(o.body),
  ]);
  const configId = c.rows[0]!.id;
  await pool.query(`INSERT INTO config_versions (config_id, version, model_id, body) VALUES ($1, 1, $2, $3) ON CONFLICT DO NOTHING`, [
    configId,
    modelId,
    JSON.stringify(o.body),
  ]);
  return configId;
}

/** One pending run of a config; an engine claims it. Retries enough for any outage a bench makes. */
export async function insertRun(pool: Pool, o: { clientId: string; configId: string; sourceUrl: string; mount: string }): Promise<string> {
  const r = await pool.query<{ id: string }>(
    `INSERT INTO runs (client_id, config_id, source_url, output_mount, retry_max_attempts) VALUES ($1, $2, $3, $4, 100) RETURNING id`,
    [o.clientId, o.configId, o.sourceUrl, o.mount],
  );
  return r.rows[0]!.id;
}

/** One line rule across the plaza's walkway: tracking, rules and the event outbox work as in production. */
export const WALKWAY_RULES = [{ id: 'walkway', type: 'line_crossing', name: 'walkway', line: [[0.5, 0.15], [0.5, 0.75]] }];

/** The soak's model, config and one run per camera. */
export async function insertSoakRuns(
  pool: Pool,
  o: { dataDir: string; model: string; labels: string; cameraUrls: string[] },
): Promise<string[]> {
  const body = { inference: { confidence: 0.3, iou: 0.45 }, rules: WALKWAY_RULES, drawing: {} };
  const configId = await insertModelAndConfig(pool, { ...o, clientId: 'soak', body });
  const ids: string[] = [];
  for (const [i, url] of o.cameraUrls.entries()) ids.push(await insertRun(pool, { clientId: 'soak', configId, sourceUrl: url, mount: `soak-${i}` }));
  return ids;
}
