import { q, type ModelRow, type Queryable } from '../rows.js';

export interface NewModel {
  name: string;
  format: string;
  sha256: string;
  filePath: string;
  labelsPath: string;
  sizeBytes: number;
  inputWidth: number;
  inputHeight: number;
  labels: readonly string[];
  /** s3://bucket/key when the weights went to the S3 store before the row (then no model_blobs chunks). */
  objectUrl?: string;
}

/**
 * Stores a validated model. ON CONFLICT DO NOTHING: two uploads of the same bytes racing each other both
 * validate, one row wins, and the loser gets undefined and reads the winner's row (same id for both).
 */
export async function insertModel(db: Queryable, m: NewModel): Promise<ModelRow | undefined> {
  const { rows } = await q<ModelRow>(
    db,
    `INSERT INTO models (name, format, sha256, file_path, labels_path, size_bytes, input_width, input_height, labels, object_url)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10)
     ON CONFLICT (sha256) DO NOTHING
     RETURNING *`,
    [m.name, m.format, m.sha256, m.filePath, m.labelsPath, m.sizeBytes, m.inputWidth, m.inputHeight, JSON.stringify(m.labels), m.objectUrl ?? null],
  );
  return rows[0];
}
