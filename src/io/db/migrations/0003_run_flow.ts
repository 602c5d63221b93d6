/**
 * 0003: why a live run's frames do or do not come out (src/pipeline/flow.ts): flowing, stalled (the source
 * went quiet) or blocked (a stage downstream cannot keep up, flow_stage says where). Written by the owning
 * engine when it changes, at most about once a second, fenced like the counters; read by GET /v1/runs/{id}.
 */
export const sql = /* sql */ `
ALTER TABLE runs
  ADD COLUMN flow text NULL CHECK (flow IN ('flowing', 'stalled', 'blocked')),
  ADD COLUMN flow_stage text NULL,
  ADD COLUMN flow_at timestamptz NULL;
`;
