/**
 * 0013: a run's config_version names a version that exists (config_versions), when it names one (NULL =
 * the current version at the claim). A run inserted with plain SQL naming a version that does not exist
 * was claimed (`starting`, this engine's) but dropped from the claim's answer, which joins the version's
 * body: the engine never ran it, and the heartbeat's hand-back then sent it round again every TTL. Now such
 * an INSERT fails at once, naming the constraint. NOT VALID: rows written before are not re-read (every
 * version the engine and the API write exists).
 */
export const sql = /* sql */ `
ALTER TABLE runs ADD CONSTRAINT runs_config_version_fkey
  FOREIGN KEY (config_id, config_version) REFERENCES config_versions (config_id, version) NOT VALID;
`;
