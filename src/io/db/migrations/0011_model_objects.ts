/**
 * 0011: a model's weights may be an object in an S3-compatible store instead of model_blobs (big models:
 * SIE_MODEL_S3_URL, SIE_MODEL_S3_MIN_BYTES). `object_url` is the object's full URL, s3://bucket/key, the
 * key content-addressed (<prefix>/<sha256>.onnx): an engine reads what the row names, whatever prefix the
 * API has later, and needs no secret from the row (credentials come from each process's own AWS chain).
 *
 * One place for the weights at most: chunks in model_blobs (blob_chunks set) or an object (object_url
 * set), never both, so an engine never has to choose. Neither is still valid: a model uploaded before 0006
 * whose file is only on the API's disk (and, inside the upload's own transaction, a row whose chunks are
 * being written: blob_chunks is set last). A new row is written with its object_url already there (the
 * object is stored before the transaction opens), so a committed S3 model is never without it.
 */
export const sql = /* sql */ `
ALTER TABLE models
  ADD COLUMN object_url text NULL CHECK (object_url ~ '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$'),
  ADD CONSTRAINT models_weights_in_one_place CHECK (blob_chunks IS NULL OR object_url IS NULL);
`;
