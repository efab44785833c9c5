import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadYaml, only, service } from './k8s-helpers.js';
import { repoPath } from '../helpers/paths.js';
import type { EndpointSlice } from '../../src/core/model/objects.js';

function docs(...parts: string[]): string {
  return parts.join('---\n');
}

function slicesOf(slices: readonly EndpointSlice[], svc: string): EndpointSlice[] {
  return slices.filter((s) => s.serviceName === svc);
}

/** endpoint → "address ready/serving/terminating node zone" for compact comparisons. */
function summary(s: EndpointSlice): string[] {
  const b = (v: boolean | null): string => (v === null ? '-' : v ? 'T' : 'F');
  return s.endpoints.map((e) => `${e.addresses.join(',')} ${b(e.conditions.ready)}${b(e.conditions.serving)}${b(e.conditions.terminating)} ${e.nodeName ?? '-'} ${e.zone ?? '-'}`);
}

function pod(name: string, opts: { ip?: string; ips?: string[]; ready?: boolean; node?: string; phase?: string; deleting?: boolean; labels?: string; ns?: string; ports?: string }): string {
  const ips = opts.ips ?? (opts.ip === undefined ? [] : [opts.ip]);
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${opts.ns ?? 'default'}
  labels: ${opts.labels ?? '{app: web}'}
${opts.deleting === true ? '  deletionTimestamp: "2024-05-01T10:00:00Z"\n' : ''}spec:
  nodeName: ${opts.node ?? 'node-1'}
  containers:
  - name: main
    ports: ${opts.ports ?? '[{name: http, containerPort: 8080}]'}
status:
  phase: ${opts.phase ?? 'Running'}
  podIPs: [${ips.map((ip) => `{ip: "${ip}"}`).join(', ')}]
  conditions: [{type: Ready, status: "${opts.ready === false ? 'False' : 'True'}"}]
`;
}

const NODE = (name: string, zone: string): string => `apiVersion: v1
kind: Node
metadata: {name: ${name}, labels: {topology.kubernetes.io/zone: ${zone}}}
`;

const ENDPOINTS = `apiVersion: v1
kind: Endpoints
metadata: {name: ext, namespace: default, labels: {team: db}, annotations: {endpoints.kubernetes.io/last-change-trigger-time: x, note: kept}}
subsets:
- addresses: [{ip: 192.0.2.10, nodeName: node-1}, {ip: 010.000.002.005}, {ip: "fd00::a"}]
  notReadyAddresses: [{ip: 192.0.2.11}]
  ports: [{name: pg, port: 5432}]
- addresses: [{ip: 192.0.2.20}]
  ports: [{name: pg, port: 5432}]
- addresses: [{ip: 192.0.2.30}]
  ports: [{name: pg, port: 6432}]
`;

test('Endpoints are mirrored: one slice per family and port set, canonical addresses, ready from the list', () => {
  const d = loadYaml(docs(service('ext', 'clusterIP: 10.0.0.1\nports:\n- {name: pg, port: 5432}'), ENDPOINTS));
  assert.deepEqual(d.lines, []);
  const slices = slicesOf(d.objects.endpointSlices, 'ext');
  assert.equal(slices.length, 3);
  for (const s of slices) {
    assert.equal(s.origin, 'endpoints');
    assert.match(s.meta.name, /^ext-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(s.meta.labels, { team: 'db', 'kubernetes.io/service-name': 'ext', 'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io' });
    assert.deepEqual(s.meta.annotations, { note: 'kept' });
  }
  const v4 = slices.filter((s) => s.addressType === 'IPv4');
  const by5432 = v4.find((s) => s.ports[0]?.port === 5432);
  const by6432 = v4.find((s) => s.ports[0]?.port === 6432);
  assert.ok(by5432 && by6432);
  assert.deepEqual(by5432.ports, [{ name: 'pg', port: 5432, protocol: 'TCP' }]);
  assert.deepEqual(summary(by5432), ['10.0.2.5 T-- - -', '192.0.2.10 T-- node-1 -', '192.0.2.11 F-- - -', '192.0.2.20 T-- - -']);
  assert.deepEqual(summary(by6432), ['192.0.2.30 T-- - -']);
  const v6 = slices.find((s) => s.addressType === 'IPv6');
  assert.deepEqual(v6 && summary(v6), ['fd00::a T-- - -']);
});

test('mirroring is skipped for skip-mirror Endpoints; given EndpointSlices win over Endpoints and Pods', () => {
  const skip = loadYaml(docs(service('ext', 'clusterIP: 10.0.0.1\nports:\n- {name: pg, port: 5432}'), ENDPOINTS.replace('labels: {team: db}', 'labels: {endpointslice.kubernetes.io/skip-mirror: "true"}')));
  assert.equal(skip.objects.endpointSlices.length, 0);
  const given = `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ext-given, namespace: default, labels: {kubernetes.io/service-name: ext}}
addressType: IPv4
ports: [{name: pg, port: 5432}]
endpoints: [{addresses: [192.0.2.99]}]
`;
  const svc = service('ext', 'clusterIP: 10.0.0.1\nselector: {app: web}\nports:\n- {name: pg, port: 5432}');
  const d = loadYaml(docs(svc, ENDPOINTS, given, pod('web-1', { ip: '10.1.0.1' })));
  assert.deepEqual(d.objects.endpointSlices.map((s) => [s.meta.name, s.origin]), [['ext-given', 'input']]);
  // Without the given slice, the Endpoints win over the Pods.
  const e = loadYaml(docs(svc, ENDPOINTS, pod('web-1', { ip: '10.1.0.1' })));
  assert.ok(e.objects.endpointSlices.length > 0);
  assert.ok(e.objects.endpointSlices.every((s) => s.origin === 'endpoints'));
});

const WEB = service('web', 'clusterIP: 10.0.0.2\nselector: {app: web}\nports:\n- {name: http, port: 80, targetPort: http}\n- {name: metrics, port: 9100}');

test('Pods become endpoints: ready, not ready, terminating; finished and IP-less Pods are left out', () => {
  const d = loadYaml(
    docs(
      WEB,
      pod('web-1', { ip: '10.1.0.1' }),
      pod('web-2', { ip: '10.1.0.2', ready: false }),
      pod('web-3', { ip: '10.1.0.3', deleting: true }),
      pod('web-4', { ip: '10.1.0.4', phase: 'Succeeded' }),
      pod('web-5', {}),
      pod('other-ns', { ip: '10.1.0.6', ns: 'prod' }),
      pod('other-app', { ip: '10.1.0.7', labels: '{app: db}' }),
      pod('failed', { ip: '10.1.0.8', phase: 'Failed' }),
    ),
  );
  assert.deepEqual(d.lines, []);
  const slices = slicesOf(d.objects.endpointSlices, 'web');
  assert.equal(slices.length, 1);
  const s = slices[0];
  assert.ok(s);
  assert.equal(s.origin, 'pods');
  assert.equal(s.addressType, 'IPv4');
  assert.deepEqual(s.ports, [
    { name: 'http', port: 8080, protocol: 'TCP' },
    { name: 'metrics', port: 9100, protocol: 'TCP' },
  ]);
  assert.deepEqual(summary(s), ['10.1.0.1 TTF node-1 -', '10.1.0.2 FFF node-1 -', '10.1.0.3 FTT node-1 -']);
  assert.deepEqual(s.meta.labels, { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
});

test('a named targetPort is resolved per Pod: different resolutions give different slices', () => {
  const d = loadYaml(
    docs(
      WEB,
      pod('web-a', { ip: '10.1.0.1' }),
      pod('web-b', { ip: '10.1.0.2', ports: '[{name: http, containerPort: 8081}]' }),
      pod('web-c', { ip: '10.1.0.3', ports: '[{name: other, containerPort: 8080}]' }),
      pod('web-d', { ip: '10.1.0.4', ports: '[{name: http, containerPort: 8080, protocol: UDP}]' }),
      pod('web-e', { ip: '10.1.0.5' }),
    ),
  );
  const slices = slicesOf(d.objects.endpointSlices, 'web');
  const view = slices.map((s) => `${s.ports.map((p) => `${p.name}:${p.port}`).join(' ')} => ${s.endpoints.map((e) => e.addresses[0]).join(' ')}`).sort();
  assert.deepEqual(view, [
    'http:8080 metrics:9100 => 10.1.0.1 10.1.0.5',
    'http:8081 metrics:9100 => 10.1.0.2',
    'metrics:9100 => 10.1.0.3 10.1.0.4',
  ]);
  assert.equal(new Set(slices.map((s) => s.meta.name)).size, 3);
});

test('zone comes from the Node; with Nodes given, a Pod on an unknown node is left out with a warning', () => {
  const d = loadYaml(docs(WEB, NODE('node-1', 'zone-a'), pod('web-1', { ip: '10.1.0.1' }), pod('web-2', { ip: '10.1.0.2', node: 'node-9' })));
  const s = slicesOf(d.objects.endpointSlices, 'web')[0];
  assert.ok(s);
  assert.deepEqual(summary(s), ['10.1.0.1 TTF node-1 zone-a']);
  assert.match(only(d, 'web-2'), /^input\.yaml:document 4: Pod default\/web-2: spec\.nodeName: warning: node "node-9" is not among the input Nodes: the EndpointSlice controller leaves this Pod out of Service default\/web$/);
  // publishNotReadyAddresses: the Pod is published anyway, and not-ready Pods count as ready.
  const pub = loadYaml(docs(WEB.replace('selector:', 'publishNotReadyAddresses: true\n  selector:'), NODE('node-1', 'zone-a'), pod('web-2', { ip: '10.1.0.2', node: 'node-9', ready: false })));
  const p = slicesOf(pub.objects.endpointSlices, 'web')[0];
  assert.ok(p);
  assert.deepEqual(summary(p), ['10.1.0.2 TFF node-9 -']);
  assert.deepEqual(pub.lines, []);
});

test('dual-stack Services get one slice per family; more than 100 endpoints are split', () => {
  const ds = service('web', 'clusterIPs: [10.0.0.2, "fd00::2"]\nselector: {app: web}\nports:\n- {name: http, port: 80, targetPort: 8080}');
  const d = loadYaml(docs(ds, pod('web-1', { ips: ['10.1.0.1', 'fd00:1::1'] }), pod('web-2', { ips: ['10.1.0.2'] })));
  const byFamily = slicesOf(d.objects.endpointSlices, 'web').map((s) => `${s.addressType} ${s.endpoints.map((e) => e.addresses.join(',')).join(' ')}`).sort();
  assert.deepEqual(byFamily, ['IPv4 10.1.0.1 10.1.0.2', 'IPv6 fd00:1::1']);
  const many = Array.from({ length: 250 }, (_, i) => pod(`web-${String(i).padStart(3, '0')}`, { ip: `10.2.${Math.floor(i / 200)}.${i % 200}` }));
  const big = loadYaml(docs(WEB, ...many));
  const sizes = slicesOf(big.objects.endpointSlices, 'web').map((s) => s.endpoints.length).sort((a, b) => a - b);
  assert.deepEqual(sizes, [50, 100, 100]);
  const all = slicesOf(big.objects.endpointSlices, 'web').flatMap((s) => s.endpoints.map((e) => e.addresses[0]));
  assert.equal(new Set(all).size, 250);
});

test('trafficDistribution gives ready endpoints hints; topology-mode Auto is noted and gives none', () => {
  const close = loadYaml(docs(WEB.replace('selector:', 'trafficDistribution: PreferClose\n  selector:'), NODE('node-1', 'zone-a'), pod('web-1', { ip: '10.1.0.1' }), pod('web-2', { ip: '10.1.0.2', ready: false })));
  const c = slicesOf(close.objects.endpointSlices, 'web')[0];
  assert.deepEqual(c?.endpoints.map((e) => [e.zoneHints, e.nodeHints]), [
    [['zone-a'], null],
    [null, null],
  ]);
  const node = loadYaml(docs(WEB.replace('selector:', 'trafficDistribution: PreferSameNode\n  selector:'), NODE('node-1', 'zone-a'), pod('web-1', { ip: '10.1.0.1' })));
  assert.deepEqual(slicesOf(node.objects.endpointSlices, 'web')[0]?.endpoints.map((e) => [e.zoneHints, e.nodeHints]), [[['zone-a'], ['node-1']]]);
  const auto = loadYaml(docs(service('web', 'clusterIP: 10.0.0.2\nselector: {app: web}\ntrafficDistribution: PreferClose\nports:\n- {port: 80, targetPort: 8080}', '  annotations: {service.kubernetes.io/topology-mode: Auto}\n'), NODE('node-1', 'zone-a'), pod('web-1', { ip: '10.1.0.1' })));
  assert.match(only(auto, 'topology-mode'), /Service default\/web: metadata\.annotations\["service\.kubernetes\.io\/topology-mode"\]: note: kproxy does not compute topology-aware hints/);
  assert.deepEqual(slicesOf(auto.objects.endpointSlices, 'web')[0]?.endpoints.map((e) => e.zoneHints), [null]);
});

test('the article example: a Deployment and a Service without Pods has no endpoints, and a note says why', () => {
  const d = loadYaml(readFileSync(repoPath('examples/article-nginx.yaml'), 'utf8'), 'examples/article-nginx.yaml');
  assert.equal(d.lines.length, 1);
  assert.match(d.lines[0] ?? '', /^examples\/article-nginx\.yaml:document 2: Service default\/nginx: spec\.selector: note: .*only Deployment default\/nginx \(3 replicas\)/);
  assert.equal(d.objects.deployments[0]?.replicas, 3);
  assert.deepEqual(d.objects.deployments[0].podLabels, { 'k8s-app': 'nginx', 'qcloud-app': 'nginx' });
  const slices = slicesOf(d.objects.endpointSlices, 'nginx');
  assert.equal(slices.length, 1, 'the placeholder slice a cluster would show');
  assert.deepEqual([slices[0]?.origin, slices[0]?.ports, slices[0]?.endpoints], ['pods', [], []]);
});

test('the article example with its EndpointSlice: three ready endpoints on node-1', () => {
  const d = loadYaml(readFileSync(repoPath('examples/article-nginx-endpoints.yaml'), 'utf8'));
  assert.deepEqual(d.lines, []);
  const s = slicesOf(d.objects.endpointSlices, 'nginx');
  assert.equal(s.length, 1);
  assert.ok(s[0]);
  assert.equal(s[0].origin, 'input');
  assert.deepEqual(summary(s[0]), ['172.18.0.5 TTF node-1 -', '172.18.0.6 TTF node-1 -', '172.18.0.7 TTF node-1 -']);
  assert.deepEqual(s[0].ports, [{ name: '', port: 80, protocol: 'TCP' }]);
});

test('derived slices are the same whatever the order of the Pods', () => {
  const pods = [pod('web-1', { ip: '10.1.0.1' }), pod('web-2', { ip: '10.1.0.2', ports: '[{name: http, containerPort: 9}]' }), pod('web-3', { ip: '10.1.0.3' })];
  const a = loadYaml(docs(WEB, ...pods));
  const b = loadYaml(docs(...[...pods].reverse(), WEB));
  const strip = (s: EndpointSlice): unknown => ({ ...s, meta: { ...s.meta, source: null } });
  assert.deepEqual(b.objects.endpointSlices.map(strip), a.objects.endpointSlices.map(strip));
});

test('a headless Service with a selector gets slices labelled headless', () => {
  const d = loadYaml(docs(service('hl', 'clusterIP: None\nselector: {app: web}\nports:\n- {port: 80, targetPort: 8080}'), pod('web-1', { ips: ['10.1.0.1', 'fd00::1'] })));
  const slices = slicesOf(d.objects.endpointSlices, 'hl');
  // Without spec.ipFamilies the controller assumes both families for a headless Service.
  assert.deepEqual(slices.map((s) => s.addressType).sort(), ['IPv4', 'IPv6']);
  for (const s of slices) assert.equal(s.meta.labels['service.kubernetes.io/headless'], '');
});
