/**
 * `sie bench --accuracy`: every clip that has a hand-verified truth (test/fixtures/truth/*.json) is replayed
 * with its fixture config through replay() — the same stages as `sie replay` and a live run — and the events
 * are scored against the truth (src/accuracy). It only measures: the figures say where the tracker and the
 * rules lose counts, and a test keeps them above a floor.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { replay } from '../replay/replay.js';
import { loadConfigFile } from '../config/file.js';
import { describeZodError } from '../config/zodError.js';
import { createLogger } from '../log.js';
import { ConfigInvalidError, SourceInvalidError } from '../errors.js';
import { projectRoot } from '../inference/modelSpec.js';
import { DEFAULT_TOLERANCE_FRAMES } from '../accuracy/score.js';
import { scoreClip, truthSchema, type RuleScore, type Truth } from '../accuracy/truth.js';

/** Where the truth files live: beside the fixture configs they name. */
export const DEFAULT_TRUTH_DIR = join(projectRoot, 'test', 'fixtures', 'truth');

export interface AccuracyOptions {
  /** Folder of truth files; each names its config relative to the folder above it (test/fixtures). */
  truthDir: string;
  /** Folder holding the clips the truth files name (../shared/media). */
  mediaDir: string;
  model: string;
  labels: string;
  toleranceFrames?: number;
  /** Only these clips (file names as the truth files give them); all by default. */
  clips?: string[];
  /** Progress lines. */
  print?: (text: string) => void;
}

export interface ClipAccuracy {
  clip: string;
  config: string;
  frames: number;
  /** Replay's own time, for the record: accuracy does not depend on it. */
  seconds: number;
  rules: RuleScore[];
}

export interface AccuracyResult {
  type: 'accuracy';
  toleranceFrames: number;
  clips: ClipAccuracy[];
}

async function loadTruth(path: string): Promise<Truth> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ConfigInvalidError(`truth file ${path}: ${(err as Error).message}`);
  }
  const parsed = truthSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigInvalidError(`truth file ${path}: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

export async function runAccuracyBench(o: AccuracyOptions): Promise<AccuracyResult> {
  const toleranceFrames = o.toleranceFrames ?? DEFAULT_TOLERANCE_FRAMES;
  const files = (await readdir(o.truthDir)).filter((f) => f.endsWith('.json')).sort();
  const truths: Array<{ path: string; truth: Truth }> = [];
  for (const f of files) truths.push({ path: join(o.truthDir, f), truth: await loadTruth(join(o.truthDir, f)) });
  const wanted = o.clips ? new Set(o.clips) : undefined;
  if (wanted) {
    const known = new Set(truths.map((t) => t.truth.clip));
    const unknown = [...wanted].filter((c) => !known.has(c));
    if (unknown.length) throw new ConfigInvalidError(`no truth in ${o.truthDir} for ${unknown.join(', ')} (have: ${[...known].join(', ')})`);
  }
  const logger = createLogger({ cmd: 'bench-accuracy' }, process.env.SIE_LOG_LEVEL ?? 'warn');
  const clips: ClipAccuracy[] = [];
  for (const { path, truth } of truths) {
    if (wanted && !wanted.has(truth.clip)) continue;
    const video = join(o.mediaDir, truth.clip);
    if (!existsSync(video)) throw new SourceInvalidError(`truth file ${path}: clip ${video} not found`);
    const configPath = resolve(dirname(o.truthDir), truth.config);
    const config = await loadConfigFile(configPath);
    o.print?.(`accuracy: replaying ${truth.clip} with ${truth.config}\n`);
    const r = await replay({
      video,
      detector: { weightsPath: o.model, labels: o.labels, format: 'yolox', warmup: true, logger },
      config: config.body,
      name: config.name ?? basename(video),
      logger,
    });
    if (r.frames !== truth.frames) {
      throw new SourceInvalidError(`${truth.clip}: replay decoded ${r.frames} frames, the truth was made on ${truth.frames}`);
    }
    clips.push({
      clip: truth.clip,
      config: truth.config,
      frames: r.frames,
      seconds: r.seconds,
      rules: scoreClip(truth, config.body.rules, r.events, { toleranceFrames }),
    });
  }
  return { type: 'accuracy', toleranceFrames, clips };
}

const pct = (x: number) => x.toFixed(3);

export function formatAccuracy(r: AccuracyResult): string {
  const lines = [`Accuracy against the hand-verified truth (one-to-one, ±${r.toleranceFrames} frames, per direction)`, ''];
  const head = ['clip', 'rule', 'type', 'truth', 'engine', 'matched', 'missed', 'false', 'recall', 'precision'];
  const rows = [head];
  for (const c of r.clips) {
    for (const s of c.rules) {
      const x = s.score;
      rows.push([c.clip, s.rule, s.type, `${x.truth}`, `${x.engine}`, `${x.matched}`, `${x.missed}`, `${x.falseAlarms}`, pct(x.recall), pct(x.precision)]);
    }
  }
  const widths = head.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) lines.push(row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
  lines.push('');
  for (const c of r.clips) {
    for (const s of c.rules) {
      if (s.missedFrames.length) lines.push(`${c.clip} ${s.rule}: missed at frames ${s.missedFrames.join(', ')}`);
      if (s.falseAlarmFrames.length) lines.push(`${c.clip} ${s.rule}: false alarms at frames ${s.falseAlarmFrames.join(', ')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
