import { sql as init } from './0001_init.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** Applied in this order; a version is never reused or edited once shipped. */
export const migrations: readonly Migration[] = [{ version: 1, name: 'init', sql: init }];
