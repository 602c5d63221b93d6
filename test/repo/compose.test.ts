import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// No Docker engine runs here: the compose file and the collector config are checked by parsing them.
describe('docker-compose.yml', () => {
  const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, Record<string, unknown>> };

  it('has the services users expect', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['camera', 'engine', 'jaeger', 'mediamtx', 'otel-collector', 'postgres', 'pusher'].sort(),
    );
  });

  it('depends only on services it defines', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      const deps = svc.depends_on;
      const names = Array.isArray(deps) ? deps : Object.keys((deps as object | undefined) ?? {});
      for (const d of names) expect(compose.services, `${name} depends on ${d}`).toHaveProperty(d);
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
});
