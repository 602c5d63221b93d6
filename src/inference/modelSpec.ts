import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigInvalidError, ModelError } from '../errors.js';

/**
 * The project root: the nearest folder above this file holding package.json. Searched rather than
 * counted, so relative weight paths work from src/ (tests), dist/ (the CLI) or any other build folder.
 */
export const projectRoot = findProjectRoot(dirname(fileURLToPath(import.meta.url)));

function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}

/** Head layouts we can decode. 'yolov8' ([1, 4+C, N], no objectness) is the next one to add. */
export const modelFormatSchema = z.enum(['yolox']).describe('output head layout, picks the pre/post-processing');
export type ModelFormat = z.infer<typeof modelFormatSchema>;

export const modelSpecSchema = z
  .strictObject({
    name: z.string().min(1).describe('human name, shown in logs and run metadata'),
    format: modelFormatSchema,
    weights: z.string().min(1).describe('ONNX file; a relative path is taken from the project root'),
    labels: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .describe('class names in output order: a file (one a line, relative to the project root) or the list itself'),
  })
  .describe('model metadata, as stored in models/*.json');
export type ModelSpec = z.infer<typeof modelSpecSchema>;

/** A spec with its files found and its labels read: what the detector needs. */
export interface ResolvedModelSpec {
  readonly name: string;
  readonly format: ModelFormat;
  readonly weightsPath: string;
  readonly labels: readonly string[];
}

export function resolveModelPath(p: string, baseDir: string = projectRoot): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

/** A labels file's lines as class names are read from it: trimmed, trailing empty lines dropped (files
 *  usually end with a newline). Shared by the engine's loadLabels and the API's upload check. */
export function labelLines(text: string): string[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Class names, one a line, in output order. Lines are trimmed and trailing empty lines ignored (files
 * usually end with a newline); an empty line inside would shift every later class id, so it is an error.
 */
export async function loadLabels(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ModelError(`cannot read labels file ${path}: ${(err as Error).message}`, { cause: err });
  }
  const lines = labelLines(text);
  const blank = lines.indexOf('');
  if (blank >= 0) throw new ModelError(`labels file ${path}: line ${blank + 1} is empty (class ids would shift)`);
  if (lines.length === 0) throw new ModelError(`labels file ${path} lists no classes`);
  return lines;
}

/** Validates a spec object (from JSON or config) once, at the edge. */
export function parseModelSpec(value: unknown, source = 'model spec'): ModelSpec {
  const parsed = modelSpecSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigInvalidError(`${source} is invalid: ${issues}`);
  }
  return parsed.data;
}

/** Reads and validates models/<name>.json. */
export async function loadModelSpec(jsonPath: string): Promise<ModelSpec> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(jsonPath, 'utf8'));
  } catch (err) {
    throw new ConfigInvalidError(`cannot read model spec ${jsonPath}: ${(err as Error).message}`, { cause: err });
  }
  return parseModelSpec(raw, `model spec ${jsonPath}`);
}

/** Absolute weights path and the label list (read from its file when the spec names one). */
export async function resolveModelSpec(spec: ModelSpec, baseDir: string = projectRoot): Promise<ResolvedModelSpec> {
  const labels = typeof spec.labels === 'string' ? await loadLabels(resolveModelPath(spec.labels, baseDir)) : [...spec.labels];
  return { name: spec.name, format: spec.format, weightsPath: resolveModelPath(spec.weights, baseDir), labels };
}
