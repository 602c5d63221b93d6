import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SieMetrics } from '../../src/observability/metrics.js';

// No Docker engine runs here: the compose file and the collector config are checked by parsing them.
describe('docker-compose.yml', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, Record<string, unknown>> };

  it('has the services users expect', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['camera', 'engine', 'grafana', 'jaeger', 'mediamtx', 'minio', 'minio-init', 'otel-collector', 'postgres', 'prometheus', 'pusher'].sort(),
    );
  });

  it('has MinIO only under the s3 profile, and the engine reads the S3 store only from the shell (unset by default)', () => {
    const profiled = Object.entries(compose.services).filter(([, svc]) => svc.profiles !== undefined);
    expect(profiled.map(([name, svc]) => [name, svc.profiles])).toEqual([
      ['minio', ['s3']],
      ['minio-init', ['s3']],
    ]);
    // No service of the default set waits on a profiled one (compose would refuse to start without it).
    for (const [name, svc] of Object.entries(compose.services).filter(([, x]) => x.profiles === undefined)) {
      const deps = svc.depends_on;
      const names = Array.isArray(deps) ? deps : Object.keys((deps as object | undefined) ?? {});
      for (const d of names) expect(compose.services[d]!.profiles, `${name} depends on ${d}`).toBeUndefined();
    }
    const env = compose.services.engine!.environment as Record<string, string>;
    for (const name of ['SIE_MODEL_S3_URL', 'SIE_S3_ENDPOINT', 'SIE_MODEL_S3_MIN_BYTES', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      // Empty when the shell does not set it, and sie counts empty as unset: PostgreSQL only.
      expect(env[name], name).toBe(`\${${name}:-}`);
    }
    // The bucket minio-init makes is the one the header's example names.
    const init = (compose.services['minio-init']!.command as string[]).join(' ');
    expect(init).toContain('mc mb --ignore-existing local/sie-models');
    expect(readFileSync('docker-compose.yml', 'utf8')).toContain('SIE_MODEL_S3_URL=s3://sie-models SIE_S3_ENDPOINT=http://minio:9000');
  });

  it('depends only on services it defines', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      const deps = svc.depends_on;
      const names = Array.isArray(deps) ? deps : Object.keys((deps as object | undefined) ?? {});
      for (const d of names) expect(compose.services, `${name} depends on ${d}`).toHaveProperty(d);
    }
  });

  it('bind-mounts only paths that exist from the repository (variables at their defaults), each file the service reads there', () => {
    const expand = (p: string) => p.replace(/\$\{(\w+):-([^}]*)\}/g, (_m, _name: string, def: string) => def);
    const binds = Object.entries(compose.services).flatMap(([name, svc]) =>
      ((svc.volumes as string[] | undefined) ?? [])
        .map(expand)
        .filter((v) => /^[./]/.test(v))
        .map((v) => ({ name, host: v.split(':')[0]!, inside: v.split(':')[1]! })),
    );
    expect(binds.length).toBeGreaterThan(0);
    for (const b of binds) expect(existsSync(b.host), `${b.name}: ${b.host}`).toBe(true);
    // What the camera plays and the pusher loads is in the mounted folders.
    const args = (svc: string) => (compose.services[svc]!.command as string[]).filter((a) => a.startsWith('/media/') || a.startsWith('/models/'));
    for (const svc of ['camera', 'pusher']) {
      for (const a of args(svc)) {
        const bind = binds.find((b) => b.name === svc && a.startsWith(`${b.inside}/`))!;
        expect(bind, `${svc}: ${a}`).toBeDefined();
        expect(existsSync(join(bind.host, a.slice(bind.inside.length + 1))), `${svc}: ${a}`).toBe(true);
      }
    }
  });

  it('publishes the API and RTSP ports without clashes', () => {
    const ports = Object.values(compose.services).flatMap((svc) => ((svc.ports as string[] | undefined) ?? []).map((p) => p.split(':')[0]));
    expect(new Set(ports).size).toBe(ports.length);
    expect(ports).toEqual(expect.arrayContaining(['5432', '8000', '8554']));
  });

  it('mounts a collector config that parses and routes traces', () => {
    const otel = parse(readFileSync('otel/collector.yaml', 'utf8')) as { service: { pipelines: { traces: { receivers: string[]; exporters: string[] } } } };
    expect(otel.service.pipelines.traces.receivers).toContain('otlp');
    expect(otel.service.pipelines.traces.exporters.length).toBeGreaterThan(0);
  });

  it("the engine's traces reach Jaeger: its OTLP endpoint is the collector's HTTP receiver, whose traces pipeline exports to jaeger", () => {
    interface Collector {
      receivers: { otlp: { protocols: { http: { endpoint: string } } } };
      processors: Record<string, unknown>;
      exporters: Record<string, { endpoint?: string }>;
      service: { pipelines: { traces: { receivers: string[]; processors: string[]; exporters: string[] } } };
    }
    const otel = parse(readFileSync('otel/collector.yaml', 'utf8')) as Collector;
    const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, { environment?: Record<string, string> }> };
    const endpoint = new URL(compose.services.engine!.environment!.OTEL_EXPORTER_OTLP_ENDPOINT!);
    expect(endpoint.hostname).toBe('otel-collector');
    expect(otel.receivers.otlp.protocols.http.endpoint.endsWith(`:${endpoint.port}`)).toBe(true);
    const traces = otel.service.pipelines.traces;
    for (const p of traces.processors) expect(otel.processors, p).toHaveProperty(p);
    for (const e of traces.exporters) expect(otel.exporters, e).toHaveProperty(e);
    const toJaeger = traces.exporters.map((e) => otel.exporters[e]!.endpoint ?? '').filter((u) => u.split(':')[0] === 'jaeger');
    expect(toJaeger).toHaveLength(1);
    expect(Object.keys(compose.services)).toContain('jaeger');
  });

  it('mounts a Prometheus config that scrapes /metrics of the service that runs the API and the engine', () => {
    const prometheus = compose.services.prometheus!;
    expect(prometheus.volumes).toContain('./otel/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    const config = parse(readFileSync('otel/prometheus.yml', 'utf8')) as {
      scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = config.scrape_configs.flatMap((j) => j.static_configs.flatMap((c) => c.targets));
    // `engine` runs `sie serve`: the API port serves the API's and the engine's metrics.
    expect(compose.services.engine!.command).toEqual(expect.arrayContaining(['serve', '--port', '8000']));
    expect(targets).toContain('engine:8000');
    for (const j of config.scrape_configs) expect(j.metrics_path ?? '/metrics').toBe('/metrics');
  });

  it('provisions Grafana with Prometheus, Jaeger and a dashboard whose queries name only metrics sie exports', async () => {
    const grafana = compose.services.grafana!;
    const volumes = grafana.volumes as string[];
    expect(volumes).toContain('./otel/grafana/provisioning:/etc/grafana/provisioning:ro');
    expect(volumes).toContain('./otel/grafana/dashboards:/var/lib/grafana/dashboards:ro');
    const ds = parse(readFileSync('otel/grafana/provisioning/datasources/datasources.yml', 'utf8')) as { datasources: { uid: string; url: string }[] };
    expect(ds.datasources.map((d) => d.url)).toEqual(expect.arrayContaining(['http://prometheus:9090', 'http://jaeger:16686']));
    const providers = parse(readFileSync('otel/grafana/provisioning/dashboards/dashboards.yml', 'utf8')) as { providers: { options: { path: string } }[] };
    expect(providers.providers[0]!.options.path).toBe('/var/lib/grafana/dashboards');

    const dash = JSON.parse(readFileSync('otel/grafana/dashboards/sie-runs.json', 'utf8')) as {
      uid: string;
      panels: { title: string; targets: { expr: string; datasource: { uid: string } }[] }[];
    };
    const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(dash.panels.map((p) => p.title).join(' ')).toMatch(/Frames per second[\s\S]*Dropped[\s\S]*latency/i);
    expect(exprs.some((e) => e.includes('histogram_quantile(0.95') && e.includes('sie_run_latency_seconds_bucket'))).toBe(true);
    for (const p of dash.panels) for (const t of p.targets) expect(ds.datasources.map((d) => d.uid)).toContain(t.datasource.uid);
    // Every sie_ series a query reads is one /metrics has (a family, or a histogram's _bucket/_sum/_count).
    const families = (await new SieMetrics({ defaultMetrics: false }).registry.getMetricsAsJSON()).map((m) => m.name);
    const series = new Set(families.flatMap((n) => [n, `${n}_bucket`, `${n}_sum`, `${n}_count`]));
    const used = new Set(exprs.flatMap((e) => e.match(/\bsie_[a-z_]+/g) ?? []));
    expect(used.size).toBeGreaterThan(8);
    for (const name of used) expect(series, name).toContain(name);
  });
});
