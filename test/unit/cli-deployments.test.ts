/**
 * Deployments in -f input: kproxy does not run them, so a Service only a Deployment would fill
 * gets a note saying why it has no endpoints (and where Deployments do run), while the sandbox
 * and the demo, which run them, stay quiet. The sandbox commands that wait for a grace period
 * say so in their help.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completeEndpointSlices } from '../../src/core/k8s/endpoint-slices.js';
import { DiagnosticSink, formatDiagnostic } from '../../src/core/model/diagnostics.js';
import { EMPTY_CLUSTER, type ClusterObjects, type Deployment, type Pod } from '../../src/core/model/objects.js';
import { runKproxy } from '../helpers/cli.js';
import { meta, port, service } from '../helpers/objects.js';
import { repoPath } from '../helpers/paths.js';

test('rules on the article\'s Deployment: the rules say "has no endpoints" and a note says why', () => {
  const r = runKproxy(['rules', '-f', repoPath('examples/article-nginx.yaml'), '--hostname-override', 'node-1']);
  assert.equal(r.status, 0, 'a note is not an error');
  assert.match(r.stdout, /default\/nginx has no endpoints/);
  assert.match(
    r.stderr,
    /^.*article-nginx\.yaml:document 2: Service default\/nginx: spec\.selector: note: selects no Pod and has no EndpointSlices, so it has no endpoints; only Deployment default\/nginx \(3 replicas\) would create its Pods.*`kproxy sandbox up -f` or `kproxy demo -f`/m,
  );
  const withEndpoints = runKproxy(['rules', '-f', repoPath('examples/article-nginx-endpoints.yaml'), '--hostname-override', 'node-1']);
  assert.doesNotMatch(withEndpoints.stderr, /Deployment/);
});

const deployment = (namespace: string, labels: Record<string, string>): Deployment => ({
  kind: 'Deployment',
  meta: meta(namespace, 'web'),
  replicas: 2,
  podLabels: labels,
  containerPorts: [],
});

function notes(objects: Partial<ClusterObjects>, deploymentsExpanded = false): string[] {
  const sink = new DiagnosticSink();
  completeEndpointSlices({ ...EMPTY_CLUSTER, ...objects }, sink, { deploymentsExpanded });
  return sink.all.map(formatDiagnostic);
}

test('the note appears only when a Deployment, and no Pod, matches the selector in the Service\'s namespace', () => {
  const svc = service('default', 'web', { clusterIP: '10.96.0.9', selector: { app: 'web' }, ports: [port({ port: 80 })] });
  assert.equal(notes({ services: [svc], deployments: [deployment('default', { app: 'web', tier: 'x' })] }).length, 1);
  assert.deepEqual(notes({ services: [svc], deployments: [deployment('other', { app: 'web' })] }), [], 'another namespace');
  assert.deepEqual(notes({ services: [svc], deployments: [deployment('default', { app: 'api' })] }), [], 'not selected');
  assert.deepEqual(notes({ services: [svc], deployments: [deployment('default', { app: 'web' })] }, true), [], 'the sandbox runs it');
  const pod: Pod = {
    kind: 'Pod',
    meta: meta('default', 'web-1', { app: 'web' }),
    podIPs: ['10.244.0.5'],
    nodeName: null,
    hostname: null,
    ready: true,
    phase: 'Running',
    containerPorts: [],
  };
  assert.deepEqual(notes({ services: [svc], pods: [pod], deployments: [deployment('default', { app: 'web' })] }), [], 'a Pod fills it');
});

test('sandbox scale and delete-pod say in their help that they wait for the grace period', () => {
  for (const cmd of ['scale', 'delete-pod']) {
    const r = runKproxy(['sandbox', cmd, '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout.replace(/\s+/g, ' '), /waits for the grace period of the removed pods \(default 30 s; --grace 0 removes them at once\)/);
  }
});
