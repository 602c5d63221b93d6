/**
 * 0006: the weights of every model in PostgreSQL, so an engine on any machine can run any run (before, the
 * file lived only on the API's disk, under SIE_DATA_DIR). Content-addressed by the sha256 the models row
 * already carries, in chunks of at most a few MB (bytea rows rather than large objects: plain rows are
 * dumped, replicated, granted and deleted like every other table, need no lo_unlink or vacuumlo for
 * orphans, and one chunk is one ordinary SELECT, so neither side ever holds a whole model in memory).
 * The labels need nothing new: models.labels has held them as JSON since 0001.
 */
export const sql = /* sql */ `
CREATE TABLE model_blobs (
  sha256 text NOT NULL REFERENCES models (sha256) ON DELETE CASCADE,
  seq    int NOT NULL CHECK (seq >= 0),          -- 0, 1, 2, …: the chunks in file order
  bytes  bytea NOT NULL CHECK (length(bytes) > 0),
  PRIMARY KEY (sha256, seq)
);
-- Weights do not compress: TOAST stores the chunks out of line without trying pglz on each first.
ALTER TABLE model_blobs ALTER COLUMN bytes SET STORAGE EXTERNAL;

-- How many chunks hold the weights; written in the transaction that writes them, so a non-NULL value
-- means every chunk is there. NULL: uploaded before 0006, the file only on the API's disk (until the API
-- copies it in at its next start, see src/models/backfill.ts).
ALTER TABLE models ADD COLUMN blob_chunks int NULL CHECK (blob_chunks > 0);
`;
