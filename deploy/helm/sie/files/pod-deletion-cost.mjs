/* global process, fetch, setTimeout, console, AbortSignal */
// Sidecar of an engine pod: keeps the pod's controller.kubernetes.io/pod-deletion-cost annotation equal to
// the runs its engine holds (sie_engine_runs on the engine's metrics port), so that when the Deployment
// scales in, the ReplicaSet controller removes the emptiest engines first (it deletes the lowest cost first).
// Plain Node (the engine image's), no dependencies: it reads the metrics, and patches the pod through the
// Kubernetes API with the pod's ServiceAccount token, mounted in this container only (RBAC: pods patch,
// see the chart's values; it never reads a pod).
import { readFile } from 'node:fs/promises';

const env = process.env;
const ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';
const intervalMs = Number(env.SIE_COST_INTERVAL_S ?? '5') * 1000;
const metricsUrl = env.SIE_METRICS_URL ?? 'http://127.0.0.1:9464/metrics';
const tokenFile = env.SIE_KUBE_TOKEN_FILE ?? '/var/run/secrets/kubernetes.io/serviceaccount/token';
const podName = env.POD_NAME;
const namespace = env.POD_NAMESPACE;

function apiBase() {
  if (env.SIE_KUBE_API_URL) return env.SIE_KUBE_API_URL;
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  // In-cluster: the API server's Service; its CA comes in through NODE_EXTRA_CA_CERTS (set by the chart).
  return `https://${host.includes(':') ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`;
}

function log(level, msg, extra = {}) {
  console.log(JSON.stringify({ time: new Date().toISOString(), level, msg, pod: podName, ...extra }));
}

/** The engine's sie_engine_runs gauge, or undefined when the engine does not answer or has no engine yet. */
async function runsHeld() {
  const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`metrics: HTTP ${res.status}`);
  const m = /^sie_engine_runs(?:\{[^}]*\})? (\S+)/m.exec(await res.text());
  const n = m ? Number(m[1]) : NaN;
  return Number.isFinite(n) ? Math.round(n) : undefined;
}

async function patchCost(cost) {
  // The token is read at every patch: the kubelet rotates projected tokens.
  const token = (await readFile(tokenFile, 'utf8')).trim();
  const url = `${apiBase()}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(podName)}`;
  const res = await fetch(url, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ metadata: { annotations: { [ANNOTATION]: String(cost) } } }),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`patch: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
}

if (!podName || !namespace) {
  log('error', 'POD_NAME and POD_NAMESPACE must be set (the downward API)');
  process.exit(2);
}
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));

let written;
for (;;) {
  try {
    const runs = await runsHeld();
    // Written only when it changes: one patch per change of load, not one per tick.
    if (runs !== undefined && runs !== written) {
      await patchCost(runs);
      log('info', 'pod-deletion-cost written', { cost: runs, previous: written ?? null });
      written = runs;
    }
  } catch (err) {
    // Not written: the next tick tries again.
    log('warn', 'pod-deletion-cost not updated', { err: err instanceof Error ? err.message : String(err) });
  }
  await new Promise((resolve) => setTimeout(resolve, intervalMs));
}
