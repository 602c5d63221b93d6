import { sql as init } from './0001_init.js';
import { sql as events } from './0002_events.js';
import { sql as runFlow } from './0003_run_flow.js';
import { sql as eventTraces } from './0004_event_traces.js';
import { sql as runConfigTenant } from './0005_run_config_tenant.js';
import { sql as modelBlobs } from './0006_model_blobs.js';
import { sql as runCost } from './0007_run_cost.js';
import { sql as controlPlaneScale } from './0008_control_plane_scale.js';
import { sql as nudgeToken } from './0009_nudge_token.js';
import { sql as pendingScan } from './0010_pending_scan.js';
import { sql as modelObjects } from './0011_model_objects.js';
import { sql as engineRowKeptWhileHeld } from './0012_engine_row_kept_while_held.js';
import { sql as runConfigVersionExists } from './0013_run_config_version_exists.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Applied in this order; a version is never reused or edited once shipped. */
export const migrations: readonly Migration[] = [
  { version: 1, name: 'init', sql: init },
  { version: 2, name: 'events', sql: events },
  { version: 3, name: 'run_flow', sql: runFlow },
  { version: 4, name: 'event_traces', sql: eventTraces },
  { version: 5, name: 'run_config_tenant', sql: runConfigTenant },
  { version: 6, name: 'model_blobs', sql: modelBlobs },
  { version: 7, name: 'run_cost', sql: runCost },
  { version: 8, name: 'control_plane_scale', sql: controlPlaneScale },
  { version: 9, name: 'nudge_token', sql: nudgeToken },
  { version: 10, name: 'pending_scan', sql: pendingScan },
  { version: 11, name: 'model_objects', sql: modelObjects },
  { version: 12, name: 'engine_row_kept_while_held', sql: engineRowKeptWhileHeld },
  { version: 13, name: 'run_config_version_exists', sql: runConfigVersionExists },
];
