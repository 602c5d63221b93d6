import { q, type ModelRow, type Queryable } from '../rows.js';
import type { NewModel } from './insertModel.js';

/**
 * The same weights uploaded again after a delete: the row (unique by sha256) comes back with the new
 * name and labels, keeping its id so old config versions that point at it stay consistent.
 */
export async function restoreModel(db: Queryable, id: string, m: NewModel): Promise<ModelRow | undefined> {
  const { rows } = await q<ModelRow>(
    db,
    `UPDATE models
     SET name = $2, format = $3, labels_path = $4, input_width = $5, input_height = $6, labels = $7::jsonb,
         deleted_at = NULL, created_at = now()
     WHERE id = $1 AND deleted_at IS NOT NULL
     RETURNING *`,
    [id, m.name, m.format, m.labelsPath, m.inputWidth, m.inputHeight, JSON.stringify(m.labels)],
  );
  return rows[0];
}
