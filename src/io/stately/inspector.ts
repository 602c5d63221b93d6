/*
 * Live machines in Stately's inspector. With SIE_INSPECT set to a WebSocket URL, every run machine and
 * the engine's poller machine of this process report their actors, events and snapshots to it: the bridge
 * `sie inspect` starts (Stately's own, @statelyai/inspect/server), whose page shows them in Stately's
 * inspector UI. One connection per process, made on first use; nothing at all without the variable.
 * Contexts and events are redacted like logs: a camera URL's password never leaves the process.
 */
import { createWebSocketInspector } from '@statelyai/inspect';
import type { AnyEventObject, InspectionEvent, MachineContext, Observer } from 'xstate';
import { z } from 'zod';
import { ConfigInvalidError } from '../../errors.js';
import { redactDeep } from '../../redact.js';

export const INSPECT_ENV = 'SIE_INSPECT';

const inspectUrlSchema = z
  .string()
  .url()
  .refine((u) => /^wss?:$/.test(new URL(u).protocol), 'expected a ws:// or wss:// URL (the one `sie inspect` prints)');

/** SIE_INSPECT's URL, validated; undefined when unset or empty. */
export function inspectUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const raw = env[INSPECT_ENV]?.trim();
  if (!raw) return undefined;
  const r = inspectUrlSchema.safeParse(raw);
  if (!r.success) throw new ConfigInvalidError(`${INSPECT_ENV}: ${r.error.issues[0]!.message}`);
  return r.data;
}

let inspector: ReturnType<typeof createWebSocketInspector> | undefined;

/**
 * The observer to pass as createActor's `inspect`, or undefined when SIE_INSPECT is not set (XState then
 * does no inspection work at all). The first call connects; later calls share the connection.
 */
export function machineInspection(env: NodeJS.ProcessEnv = process.env): Observer<InspectionEvent> | undefined {
  if (inspector) return inspector.inspect;
  const url = inspectUrlFromEnv(env);
  if (!url) return undefined;
  inspector = createWebSocketInspector({
    url,
    // Frames never travel as machine events, so what goes out is a few events a second per run.
    sanitizeContext: (context: MachineContext) => redactDeep(context) as MachineContext,
    sanitizeEvent: (event: AnyEventObject) => redactDeep(event) as AnyEventObject,
  });
  return inspector.inspect;
}

/** Closes the connection (the process exits without it too; tests reuse the process). */
export function stopMachineInspection(): void {
  inspector?.stop();
  inspector = undefined;
}
