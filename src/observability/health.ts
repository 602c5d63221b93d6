/**
 * The Kubernetes probes' checks, shared by the API, `sie serve` and `sie engine --metrics-port`:
 *
 * - liveness (`/healthz`): the process answers; no check.
 * - readiness (`/readyz`): every check of `readiness()` passes: the database answers a query; for an
 *   engine, its lease is held (registered and renewed within its TTL) and it is not draining (SIGTERM).
 * - startup (`/startupz`): the API has migrated the database (it listens only then); an engine has
 *   registered (written its lease row) and no run it holds is still loading its model.
 */
export interface ProbeCheck {
  readonly ok: boolean;
  /** Why not, when not ok (never a password: database errors go through redactText). */
  readonly detail?: string;
}

export type ProbeChecks = Record<string, ProbeCheck>;

export interface Probes {
  readiness(): Promise<ProbeChecks>;
  startup(): Promise<ProbeChecks>;
}

/** `database: …; lease: …` for the checks that failed. */
export function failedChecks(checks: ProbeChecks): string | undefined {
  const failed = Object.entries(checks).filter(([, c]) => !c.ok);
  return failed.length ? failed.map(([name, c]) => `${name}: ${c.detail ?? 'failed'}`).join('; ') : undefined;
}

/** An engine's side of the probes (see Engine.health()). */
export interface EngineHealthView {
  readonly registered: boolean;
  readonly leaseHeld: boolean;
  readonly draining: boolean;
  readonly runsLoading: number;
}

export function engineReadiness(h: EngineHealthView): ProbeChecks {
  return {
    lease: h.leaseHeld ? { ok: true } : { ok: false, detail: h.registered ? 'not renewed within its TTL' : 'engine not registered yet' },
    draining: h.draining ? { ok: false, detail: 'engine is draining (shutting down)' } : { ok: true },
  };
}

export function engineStartup(h: EngineHealthView): ProbeChecks {
  return {
    registered: h.registered ? { ok: true } : { ok: false, detail: 'engine not registered yet' },
    models: h.runsLoading === 0 ? { ok: true } : { ok: false, detail: `${h.runsLoading} run(s) loading their model` },
  };
}

/** Both halves of one process (`sie serve`): every check of each, by name. */
export function combineProbes(...all: Probes[]): Probes {
  const merge = async (get: (p: Probes) => Promise<ProbeChecks>) => Object.assign({}, ...(await Promise.all(all.map(get)))) as ProbeChecks;
  return { readiness: () => merge((p) => p.readiness()), startup: () => merge((p) => p.startup()) };
}
