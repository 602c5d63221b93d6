/**
 * 0005: a run's config belongs to the run's client, in the database itself. The API refused a run naming
 * another client's config, but a plain `INSERT INTO runs` (the documented SQL path) was taken and ran the
 * other tenant's rules. A composite foreign key makes every insert and update prove (config_id, client_id)
 * is a config of that client. NOT VALID: rows written before this migration are not re-checked (validating
 * them could fail the migration and keep every engine from starting); new and updated rows are.
 */
export const sql = /* sql */ `
ALTER TABLE configs ADD CONSTRAINT configs_id_client_key UNIQUE (id, client_id);
ALTER TABLE runs ADD CONSTRAINT runs_config_of_same_client
  FOREIGN KEY (config_id, client_id) REFERENCES configs (id, client_id) NOT VALID;
`;
