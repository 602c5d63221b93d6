import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { z } from 'zod';
import * as apps from 'kubernetes-models/apps/v1';
import * as core from 'kubernetes-models/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as rbac from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as keda from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { engineCommandSpec, engineEnvironment } from '../../src/cli/engine.js';
import { apiCommandSpec } from '../../src/cli/api.js';
import { apiEnvironment } from '../../src/cli/apiEnv.js';
import { byKindName, CHART, EXTRAS_VALUES, GPU_KEDA_VALUES, S3_VALUES, unpackHelm, type Helm, type HelmResult, type K8sObject } from './chart.js';

// The chart is checked offline (helm from an npm package, ./chart.ts); every rendered object is validated
// against the Kubernetes OpenAPI schemas (kubernetes-models) and KEDA's CRD schemas (@kubernetes-models/keda).
interface Probe { httpGet: { path: string; port: string | number } }
interface Container {
  name: string;
  image: string;
  args: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  ports: { name: string; containerPort: number }[];
  startupProbe: Probe;
  livenessProbe: Probe;
  readinessProbe: Probe;
  resources: { limits?: Record<string, string | number>; requests?: Record<string, string | number> };
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  nodeSelector?: Record<string, string>;
  tolerations?: { key: string }[];
  containers: Container[];
}
interface DeploymentSpec {
  replicas?: number;
  strategy: { type: string; rollingUpdate: { maxUnavailable: number | string } };
  template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
}

// One model class per apiVersion and kind the chart may render: an object of any other kind fails the test.
const MODELS: Record<string, Record<string, unknown>> = {
  'apps/v1': apps,
  v1: core,
  'policy/v1': policy,
  'rbac.authorization.k8s.io/v1': rbac,
  'keda.sh/v1alpha1': keda,
};

/** Where Kubernetes puts a ServiceAccount token, and where the pod-deletion-cost script reads it. */
const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

let chart: Helm;

function helm(args: string[]): HelmResult {
  return chart.run(args);
}

function renderWithText(extra: string[] = []): { objects: K8sObject[]; text: string } {
  return chart.renderWithText(extra);
}

function render(extra: string[] = []): K8sObject[] {
  return chart.render(extra);
}

function validate(o: K8sObject): void {
  const Model = MODELS[o.apiVersion]?.[o.kind] as (new (data: unknown) => { validate(): void }) | undefined;
  expect(Model, `no schema for ${o.apiVersion} ${o.kind}`).toBeDefined();
  new Model!(o).validate();
}

function podOf(d: K8sObject): PodSpec {
  return (d.spec as unknown as DeploymentSpec).template.spec;
}

/** `--key=value` arguments after the subcommand, as the options object the command's schema reads. */
function optionsFrom(args: string[]): Record<string, string> {
  return Object.fromEntries(
    args.slice(1).map((a) => {
      const m = /^--([a-z-]+)=(.*)$/.exec(a);
      expect(m, `argument ${a} is --name=value`).not.toBeNull();
      return [m![1]!, m![2]!];
    }),
  );
}

/** Parses a container's arguments with the real command's option schema, unknown options refused. */
function parsedOptions(options: z.ZodObject, args: string[]): Record<string, unknown> {
  const r = options.strict().safeParse(optionsFrom(args));
  expect(r.success, r.success ? '' : JSON.stringify(r.error.issues)).toBe(true);
  return r.data as Record<string, unknown>;
}

/** The engine's wait for its release on SIGTERM, read from the code the engine runs. */
function engineReleaseTimeoutSeconds(): number {
  const src = readFileSync('src/engine/engine.ts', 'utf8');
  const stop = /async stop\(\)[\s\S]*?waitFor\([\s\S]*?\{ timeout: ([\d_]+) \}/.exec(src);
  expect(stop, 'Engine.stop waits for the drain with a timeout').not.toBeNull();
  return Number(stop![1]!.replace(/_/g, '')) / 1000;
}

function checkEnginePod(pod: PodSpec, values: { leaseTtlSeconds: number; drain: { releaseTimeoutSeconds: number; closeMarginSeconds: number } }): Record<string, unknown> {
  const c = pod.containers.find((x) => x.name === 'engine')!;
  expect(c.args[0]).toBe('engine');
  const o = parsedOptions(engineCommandSpec.options, c.args);
  // Probes: the engine's three paths, on the port its --metrics-port serves.
  const port = (name: string | number) => (typeof name === 'number' ? name : c.ports.find((p) => p.name === name)?.containerPort);
  expect([c.startupProbe, c.livenessProbe, c.readinessProbe].map((p) => p.httpGet.path)).toEqual(['/startupz', '/healthz', '/readyz']);
  for (const p of [c.startupProbe, c.livenessProbe, c.readinessProbe]) expect(port(p.httpGet.port)).toBe(o['metrics-port']);
  expect(port('rtsp')).toBe(o['rtsp-port']);
  // The grace period covers the drain: the engine's release wait (as coded) or its lease, plus the close.
  expect(values.drain.releaseTimeoutSeconds).toBe(engineReleaseTimeoutSeconds());
  expect(o['lease-ttl']).toBe(values.leaseTtlSeconds);
  const drain = Math.max(engineReleaseTimeoutSeconds(), o['lease-ttl'] as number) + values.drain.closeMarginSeconds;
  expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(drain);
  // Output URLs name the pod: --advertise-host is the pod IP, from the downward API.
  expect(o['advertise-host']).toBe('$(POD_IP)');
  expect(c.env?.find((e) => e.name === 'POD_IP')).toBeDefined();
  return o;
}

function checkNoLiteralDatabaseUrl(objects: K8sObject[], rendered: string): void {
  // The URL and its password come only from the Secret: nothing rendered holds a connection URL.
  expect(rendered).not.toMatch(/postgres(ql)?:\/\//);
  for (const d of objects.filter((o) => o.kind === 'Deployment')) {
    for (const c of podOf(d).containers) {
      const url = c.env?.find((e) => e.name === 'SIE_DATABASE_URL');
      expect(url?.value, `${d.metadata.name}/${c.name}`).toBeUndefined();
      // sie's own containers read it from the Secret; the sidecar does not get it at all.
      if (c.name === 'pod-deletion-cost') expect(url).toBeUndefined();
      else expect(url?.valueFrom?.secretKeyRef, `${d.metadata.name}/${c.name}`).toEqual({ name: 'sie-database', key: 'url' });
      for (const e of c.env ?? []) expect(`${e.name}=${e.value ?? ''}`).not.toMatch(/PASSWORD|:\/\/[^/@]*:[^/@]*@/i);
    }
  }
}

beforeAll(() => {
  chart = unpackHelm();
});

afterAll(() => {
  chart?.dispose();
});

describe('Helm chart deploy/helm/sie', () => {
  const values = parse(readFileSync(`${CHART}/values.yaml`, 'utf8')) as {
    engine: { leaseTtlSeconds: number; maxRuns: number; capacityUnits: number; drain: { releaseTimeoutSeconds: number; closeMarginSeconds: number } };
    keda: { targetUtilization: number };
    gpu: { replicas: number; maxRuns: number; capacityUnits: number };
  };

  it('passes helm lint with the default values and with the GPU and KEDA values', () => {
    for (const extra of [[], ['-f', GPU_KEDA_VALUES], ['-f', EXTRAS_VALUES], ['-f', S3_VALUES]]) {
      const r = helm(['lint', '--strict', CHART, ...extra]);
      expect(r.status, r.stdout + r.stderr).toBe(0);
    }
  });

  it('default values (CPU pool): every object valid; API and engine wired to their real options and probes', () => {
    const objects = render();
    objects.forEach(validate);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      ['Deployment/sie-api', 'Deployment/sie-engine-cpu', 'PodDisruptionBudget/sie-engine-cpu', 'Service/sie-api', 'Service/sie-engine', 'ServiceAccount/sie'].sort(),
    );
    for (const name of ['sie-api', 'sie-engine-cpu']) {
      const spec = byKindName(objects, 'Deployment', name).spec as unknown as DeploymentSpec;
      expect(spec.strategy.type).toBe('RollingUpdate');
      expect(spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    }
    const engine = byKindName(objects, 'Deployment', 'sie-engine-cpu');
    expect((engine.spec as unknown as DeploymentSpec).replicas).toBe(2);
    const o = checkEnginePod(podOf(engine), values.engine);
    expect(o['execution-provider']).toBe('cpu');
    expect(JSON.stringify(podOf(engine).containers[0]!.resources)).not.toContain('nvidia.com/gpu');
    // No pod-deletion-cost writer by default: one container, no API token.
    expect(podOf(engine).containers.map((c) => c.name)).toEqual(['engine']);
    expect((podOf(engine) as unknown as { automountServiceAccountToken: boolean }).automountServiceAccountToken).toBe(false);

    const api = podOf(byKindName(objects, 'Deployment', 'sie-api')).containers[0]!;
    expect(api.args[0]).toBe('api');
    const a = parsedOptions(apiCommandSpec.options, api.args);
    expect(a.host).toBe('0.0.0.0');
    expect(api.ports.find((p) => p.name === 'http')?.containerPort).toBe(a.port);
    expect([api.startupProbe, api.livenessProbe, api.readinessProbe].map((p) => [p.httpGet.path, p.httpGet.port])).toEqual([
      ['/startupz', 'http'],
      ['/healthz', 'http'],
      ['/readyz', 'http'],
    ]);

    const svc = byKindName(objects, 'Service', 'sie-engine').spec as { ports: { name: string; port: number; targetPort: string }[]; selector: Record<string, string> };
    expect(svc.ports.map((p) => [p.name, p.port, p.targetPort])).toEqual([
      ['rtsp', o['rtsp-port'], 'rtsp'],
      ['metrics', o['metrics-port'], 'metrics'],
    ]);
    const podLabels = (engine.spec as unknown as DeploymentSpec).template.metadata.labels;
    for (const [k, v] of Object.entries(svc.selector)) expect(podLabels[k]).toBe(v);
    const pdb = byKindName(objects, 'PodDisruptionBudget', 'sie-engine-cpu').spec as { maxUnavailable: number; selector: { matchLabels: Record<string, string> } };
    expect(pdb.maxUnavailable).toBe(1);
    for (const [k, v] of Object.entries(pdb.selector.matchLabels)) expect(podLabels[k]).toBe(v);
    // Runs' output_url names the engine Service (stable through failover: engines redirect to the holder).
    const apiEnv = (api as unknown as { env: { name: string; value?: string }[] }).env;
    // render() installs into namespace `video`.
    expect(apiEnv.find((e) => e.name === 'SIE_RTSP_PUBLIC_URL')?.value).toBe(`rtsp://sie-engine.video.svc:${o['rtsp-port']}`);
  });

  it('GPU and KEDA values: a cuda pool on GPU nodes, a ScaledObject on PostgreSQL with slow scale-in, no fixed CPU replicas', () => {
    const { objects, text } = renderWithText(['-f', GPU_KEDA_VALUES]);
    objects.forEach(validate);
    checkNoLiteralDatabaseUrl(objects, text);

    const gpu = byKindName(objects, 'Deployment', 'sie-engine-gpu');
    const pod = podOf(gpu);
    const o = checkEnginePod(pod, values.engine);
    expect(o['execution-provider']).toBe('cuda');
    expect((gpu.spec as unknown as DeploymentSpec).strategy.rollingUpdate.maxUnavailable).toBe(0);
    expect(pod.containers[0]!.resources.limits?.['nvidia.com/gpu']).toBe(1);
    expect(pod.containers[0]!.image).toBe('registry.example/sie-cuda:0.1.0');
    // No node selector by default: the GPU limit schedules the pods (nvidia.com/gpu.present exists only
    // where GPU Feature Discovery runs); one given in values is passed on.
    expect(pod.nodeSelector).toBeUndefined();
    const selected = podOf(byKindName(render(['-f', GPU_KEDA_VALUES, '--set-string', 'gpu.nodeSelector.nvidia\\.com/gpu\\.present=true']), 'Deployment', 'sie-engine-gpu'));
    expect(selected.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
    expect(pod.tolerations?.map((t) => t.key)).toContain('nvidia.com/gpu');
    byKindName(objects, 'PodDisruptionBudget', 'sie-engine-gpu');

    // KEDA owns the CPU pool's count: a fixed replicas would fight it at every upgrade.
    const cpu = byKindName(objects, 'Deployment', 'sie-engine-cpu');
    expect((cpu.spec as unknown as DeploymentSpec).replicas).toBeUndefined();
    const so = byKindName(objects, 'ScaledObject', 'sie-engine-cpu').spec as {
      scaleTargetRef: { name: string };
      advanced: { horizontalPodAutoscalerConfig: { behavior: { scaleDown: { stabilizationWindowSeconds: number; policies: { type: string; value: number }[] } } } };
      triggers: { type: string; name: string; metadata: { query: string; targetQueryValue: string }; authenticationRef: { name: string } }[];
    };
    expect(so.scaleTargetRef.name).toBe('sie-engine-cpu');
    const down = so.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown;
    expect(down.stabilizationWindowSeconds).toBeGreaterThanOrEqual(300);
    expect(down.policies).toEqual([expect.objectContaining({ type: 'Pods', value: 1 })]);
    // Two triggers on the same connection (their queries are run on a database in keda.test.ts): cost and runs.
    expect(so.triggers.map((t) => [t.name, t.type, t.authenticationRef.name])).toEqual([
      ['cost', 'postgresql', 'sie-keda-postgresql'],
      ['runs', 'postgresql', 'sie-keda-postgresql'],
    ]);
    const [trigger] = so.triggers;
    // Target: one engine's capacity × the utilisation; the load is pending plus held runs less the GPU pool.
    expect(Number(trigger!.metadata.targetQueryValue)).toBeCloseTo(values.engine.capacityUnits * values.keda.targetUtilization);
    expect(trigger!.metadata.query).toContain("state NOT IN ('stopped', 'failed', 'completed')");
    // Less the GPU pool's free room as its live engines report it, not its nominal replicas × capacityUnits.
    expect(trigger!.metadata.query).toContain("e.pool = 'gpu' AND e.lease_expires_at > now()");
    expect(trigger!.metadata.query).not.toContain(`${2 * values.gpu.capacityUnits}`);
    const auth = byKindName(objects, 'TriggerAuthentication', trigger!.authenticationRef.name).spec as { secretTargetRef: unknown[] };
    expect(auth.secretTargetRef).toEqual([{ parameter: 'connection', name: 'sie-database', key: 'url' }]);

    expect((trigger as unknown as { metricType: string }).metricType).toBe('AverageValue');

    // The pod-deletion-cost sidecar: the chart's script, in every engine pod, with pods get/patch and a token.
    const script = byKindName(objects, 'ConfigMap', 'sie-pod-deletion-cost') as unknown as { data: Record<string, string> };
    expect(script.data['pod-deletion-cost.mjs']).toBe(readFileSync(`${CHART}/files/pod-deletion-cost.mjs`, 'utf8').trimEnd());
    for (const d of [cpu, gpu]) {
      const side = podOf(d).containers.find((c) => c.name === 'pod-deletion-cost') as unknown as { command: string[]; env: { name: string; value?: string }[] };
      expect(side.command).toEqual(['node', '/opt/sie/pod-deletion-cost.mjs']);
      expect(side.env.find((e) => e.name === 'SIE_METRICS_URL')?.value).toBe(`http://127.0.0.1:${o['metrics-port'] as number}/metrics`);
    }
    // patch only: the script never reads a pod (podDeletionCost.test.ts checks it sends nothing but PATCH).
    const role = byKindName(objects, 'Role', 'sie-pod-deletion-cost') as unknown as { rules: unknown[] };
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['patch'] },
    ]);
    // The token in the sidecar only, never in the engine container (which parses untrusted video).
    const scriptSource = readFileSync(`${CHART}/files/pod-deletion-cost.mjs`, 'utf8');
    const tokenFile = /SIE_KUBE_TOKEN_FILE \?\? '([^']+)'/.exec(scriptSource)?.[1];
    expect(tokenFile).toBe(`${SA_DIR}/token`);
    for (const d of [cpu, gpu]) {
      const p = podOf(d) as unknown as PodSpec & { automountServiceAccountToken: boolean; volumes: { name: string; projected?: { sources: unknown[] } }[] };
      expect(p.automountServiceAccountToken, d.metadata.name).toBe(false);
      const mounts = (name: string) => (p.containers.find((c) => c.name === name) as unknown as { volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }).volumeMounts;
      expect(mounts('engine').filter((m) => m.mountPath.startsWith('/var/run/secrets') || m.name === 'kube-api-access'), d.metadata.name).toEqual([]);
      expect(mounts('pod-deletion-cost').filter((m) => m.mountPath === SA_DIR), d.metadata.name).toEqual([{ name: 'kube-api-access', mountPath: SA_DIR, readOnly: true }]);
      expect(p.volumes.find((v) => v.name === 'kube-api-access')?.projected?.sources, d.metadata.name).toEqual([
        { serviceAccountToken: { path: 'token', expirationSeconds: 3600 } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
      ]);
      const side = p.containers.find((c) => c.name === 'pod-deletion-cost')!;
      expect(side.env?.find((e) => e.name === 'NODE_EXTRA_CA_CERTS')?.value).toBe(`${SA_DIR}/ca.crt`);
    }
  });

  it('extension points (extra env, volumes, media root, engine flags) render valid objects', () => {
    const objects = render(['-f', EXTRAS_VALUES]);
    objects.forEach(validate);
    const engine = podOf(byKindName(objects, 'Deployment', 'sie-engine-cpu'));
    const o = checkEnginePod(engine, values.engine);
    expect(o['stats-interval']).toBe(30);
    for (const name of ['sie-api', 'sie-engine-cpu']) {
      const c = podOf(byKindName(objects, 'Deployment', name)).containers[0]!;
      expect(c.env?.map((e) => e.name)).toEqual(expect.arrayContaining(['SIE_MEDIA_ROOT', 'SIE_MQTT_URL', 'OTEL_EXPORTER_OTLP_ENDPOINT']));
      expect((c as unknown as { volumeMounts: { name: string }[] }).volumeMounts.map((m) => m.name)).toEqual(['models', 'media']);
    }
  });

  it('the S3 store: its settings on the API and every engine pool, the credentials only from a Secret; nothing by default', () => {
    const { objects, text } = renderWithText(['-f', S3_VALUES]);
    objects.forEach(validate);
    checkNoLiteralDatabaseUrl(objects, text);
    const containers = ['sie-api', 'sie-engine-cpu', 'sie-engine-gpu'].map((name) => {
      const c = podOf(byKindName(objects, 'Deployment', name)).containers[0]!;
      return { name, env: c.env ?? [] };
    });
    for (const { name, env } of containers) {
      const value = (n: string) => env.find((e) => e.name === n)?.value;
      expect(value('SIE_MODEL_S3_URL'), name).toBe('s3://sie-models/prod');
      expect(value('SIE_S3_ENDPOINT'), name).toBe('http://minio.storage.svc:9000');
      expect(value('SIE_S3_REGION'), name).toBe('us-east-1');
      expect(value('SIE_S3_FORCE_PATH_STYLE'), name).toBe('true');
      expect(value('SIE_MODEL_S3_MIN_BYTES'), name).toBe('33554432');
      for (const [n, key] of [['AWS_ACCESS_KEY_ID', 'AWS_ACCESS_KEY_ID'], ['AWS_SECRET_ACCESS_KEY', 'AWS_SECRET_ACCESS_KEY']] as const) {
        const e = env.find((x) => x.name === n);
        expect(e?.value, `${name} ${n}`).toBeUndefined();
        expect(e?.valueFrom?.secretKeyRef, `${name} ${n}`).toEqual({ name: 'sie-s3', key });
      }
      // What the commands parse at start: the rendered values pass sie's own check.
      const asEnv = Object.fromEntries(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
      expect(apiEnvironment(asEnv).modelS3, name).toMatchObject({ bucket: 'sie-models', prefix: 'prod', minBytes: 33554432, forcePathStyle: true });
    }
    // Without a Secret (IRSA, instance roles): the settings, no key variables at all.
    const roles = render(['-f', S3_VALUES, '--set', 'modelStore.s3.credentialsSecret.name=', '--set', 'modelStore.s3.forcePathStyle=false']);
    const api = podOf(byKindName(roles, 'Deployment', 'sie-api')).containers[0]!;
    expect(api.env?.map((e) => e.name)).not.toContain('AWS_ACCESS_KEY_ID');
    expect(api.env?.find((e) => e.name === 'SIE_S3_FORCE_PATH_STYLE')?.value).toBe('false');
    // Default values: no S3 variable on any container.
    for (const d of render().filter((o) => o.kind === 'Deployment')) {
      for (const c of podOf(d).containers) expect(c.env?.map((e) => e.name).filter((n) => /S3|^AWS_/.test(n)), `${d.metadata.name}/${c.name}`).toEqual([]);
    }
  });

  it('refuses a grace period shorter than the drain, and a KEDA target of 0', () => {
    const short = helm(['template', 'sie', CHART, '--set', 'engine.terminationGracePeriodSeconds=20']);
    expect(short.status).not.toBe(0);
    expect(short.stderr).toContain('engine.terminationGracePeriodSeconds: 20 is shorter than the engine\'s drain (40 s');
    const longer = render(['--set', 'engine.terminationGracePeriodSeconds=90']);
    expect(podOf(byKindName(longer, 'Deployment', 'sie-engine-cpu')).terminationGracePeriodSeconds).toBe(90);
    // A longer lease lengthens the drain: the pod must outlive the lease it holds.
    const lease = render(['--set', 'engine.leaseTtlSeconds=45']);
    expect(podOf(byKindName(lease, 'Deployment', 'sie-engine-cpu')).terminationGracePeriodSeconds).toBe(55);
    const zero = helm(['template', 'sie', CHART, '--set', 'keda.enabled=true', '--set', 'engine.maxRuns=0']);
    expect(zero.status).not.toBe(0);
    expect(zero.stderr).toContain('engine.capacityUnits × keda.targetUtilization and engine.maxRuns must be above 0');
  });

  it('modelStore.existingClaim: the claim in every pod, read-only in engines, whose caches stay on an emptyDir of their own', () => {
    type Mount = { name: string; mountPath: string; readOnly?: boolean };
    type Pod = PodSpec & { volumes: { name: string; emptyDir?: object; persistentVolumeClaim?: { claimName: string } }[] };
    const engineCache = (objects: K8sObject[], name: string) => {
      const pod = podOf(byKindName(objects, 'Deployment', name)) as Pod;
      const c = pod.containers.find((x) => x.name === 'engine')!;
      const asEnv = Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
      // Where the engine puts its cache, as the engine itself reads its environment.
      const dir = engineEnvironment(asEnv).modelCacheDir!;
      const mounts = (c as unknown as { volumeMounts: Mount[] }).volumeMounts;
      const mount = mounts.filter((m) => dir === m.mountPath || dir.startsWith(`${m.mountPath}/`)).sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
      expect(mount, `${name}: a mount holds ${dir}`).toBeDefined();
      return { dir, mount: mount!, volume: pod.volumes.find((v) => v.name === mount!.name)!, models: mounts.find((m) => m.name === 'models')! };
    };
    const claim = render(['-f', GPU_KEDA_VALUES]);
    for (const name of ['sie-engine-cpu', 'sie-engine-gpu']) {
      const e = engineCache(claim, name);
      expect(e.volume.emptyDir, `${name}: cache ${e.dir} on ${e.mount.name}`).toEqual({});
      expect(e.models).toEqual({ name: 'models', mountPath: '/data', readOnly: true });
    }
    const api = podOf(byKindName(claim, 'Deployment', 'sie-api')) as Pod;
    expect(api.volumes.find((v) => v.name === 'models')?.persistentVolumeClaim).toEqual({ claimName: 'sie-models' });
    expect((api.containers[0] as unknown as { volumeMounts: Mount[] }).volumeMounts).toEqual([{ name: 'models', mountPath: '/data' }]);
    // No claim: the cache is SIE_DATA_DIR's model-cache/, on the pod's emptyDir, as before.
    const e = engineCache(render(), 'sie-engine-cpu');
    expect([e.dir, e.mount.name, e.volume.emptyDir]).toEqual(['/data/model-cache', 'models', {}]);
    // The meaning of the claim is documented where it is set.
    expect(readFileSync(`${CHART}/values.yaml`, 'utf8')).toMatch(/existingClaim[\s\S]*ReadWriteMany|ReadWriteMany[\s\S]*existingClaim: ""/);
  });

  it('refuses the GPU pool without its own image: the CPU image would fail every run a cuda engine claims', () => {
    const r = helm(['template', 'sie', CHART, '--set', 'gpu.enabled=true']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('gpu.image.repository: the GPU pool needs an image with onnxruntime\'s GPU build');
    // Given a repository, the tag defaults to image.tag.
    const given = render(['--set', 'gpu.enabled=true', '--set', 'gpu.image.repository=registry.example/sie-cuda']);
    expect(podOf(byKindName(given, 'Deployment', 'sie-engine-gpu')).containers[0]!.image).toBe('registry.example/sie-cuda:0.1.0');
    // The CI values that enable the GPU pool name one.
    for (const f of [GPU_KEDA_VALUES, S3_VALUES]) {
      const gpu = (parse(readFileSync(f, 'utf8')) as { gpu: { enabled: boolean; image?: { repository?: string } } }).gpu;
      expect(gpu.enabled, f).toBe(true);
      expect(gpu.image?.repository, f).toBeTruthy();
    }
  });

  it('the example render of a 3-engine install is the chart\'s current output', () => {
    const r = helm(['template', 'sie', CHART, '--namespace', 'video', '--set', 'engine.replicas=3']);
    expect(r.status, r.stderr).toBe(0);
    const hint = `regenerate it: helm template sie ${CHART} --namespace video --set engine.replicas=3 > ${CHART}/examples/three-engines.yaml`;
    expect(r.stdout, hint).toBe(readFileSync(`${CHART}/examples/three-engines.yaml`, 'utf8'));
  });
});
