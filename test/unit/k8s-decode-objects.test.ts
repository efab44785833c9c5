import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeYaml, only, service } from './k8s-helpers.js';

function docs(...parts: string[]): string {
  return parts.join('---\n');
}

const SLICE_HEAD = `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc
  namespace: default
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
`;

test('EndpointSlice: API defaults for ports, what kube-proxy ignores is dropped with an error', () => {
  const d = decodeYaml(
    docs(
      `${SLICE_HEAD}ports:
- {port: 80}
- {name: nonum, protocol: UDP}
- {name: zero, port: 0}
- {name: "bad name", port: 81}
- {name: sctp, port: 82, protocol: SCTP}
endpoints:
- addresses: [10.1.0.1]
  conditions: {ready: false, serving: true, terminating: true}
  nodeName: node-1
  zone: z1
  hints: {forZones: [{name: z1}], forNodes: [{name: node-1}]}
- addresses: [010.001.000.002]
- addresses: [not-an-ip]
- addresses: [fd00::1]
- addresses: []
- conditions: {ready: true}
- addresses: [10.1.0.3]
  conditions: {ready: "yes"}
`,
    ),
  );
  const s = d.objects.endpointSlices[0];
  assert.ok(s);
  assert.equal(s.serviceName, 'web');
  assert.equal(s.origin, 'input');
  assert.deepEqual(s.ports, [
    { name: '', port: 80, protocol: 'TCP' },
    { name: 'sctp', port: 82, protocol: 'SCTP' },
  ]);
  const at = (field: string): string => only(d, `EndpointSlice default/web-abc: ${field}: `);
  assert.match(at('ports[1].port'), /^input\.yaml:document 1: EndpointSlice default\/web-abc: ports\[1\]\.port: error: not set: kube-proxy ignores a port without a number; ports\[1\] is dropped$/);
  assert.match(at('ports[2].port'), /error: not set: kube-proxy ignores a port without a number; ports\[2\] is dropped/);
  assert.match(at('ports[3].name'), /error: "bad name" is not a valid port name/);
  assert.match(at('endpoints[2].addresses[0]'), /error: "not-an-ip" is not an IP address; endpoints\[2\] is dropped$/);
  assert.match(at('endpoints[3].addresses[0]'), /error: "fd00::1" is not an IPv4 address as addressType says; endpoints\[3\] is dropped/);
  assert.match(at('endpoints[4].addresses'), /error: no addresses: kube-proxy ignores this endpoint; endpoints\[4\] is dropped/);
  assert.match(at('endpoints[5].addresses'), /error: no addresses/);
  assert.match(at('endpoints[6].conditions.ready'), /error: must be true or false, not the string "yes"; ignored \(unset\)/);
  assert.deepEqual(s.endpoints.map((e) => e.addresses[0]), ['10.1.0.1', '010.001.000.002', '10.1.0.3']);
  assert.deepEqual(s.endpoints[0], {
    addresses: ['10.1.0.1'],
    conditions: { ready: false, serving: true, terminating: true },
    nodeName: 'node-1',
    zone: 'z1',
    zoneHints: ['z1'],
    nodeHints: ['node-1'],
  });
  assert.deepEqual(s.endpoints[1]?.conditions, { ready: null, serving: null, terminating: null });
  assert.equal(s.endpoints[1].zoneHints, null);
});

test('EndpointSlice without the service-name label: kept with serviceName null and an error', () => {
  const d = decodeYaml(SLICE_HEAD.replace('  labels: {kubernetes.io/service-name: web}\n', ''));
  assert.match(
    only(d, 'service-name'),
    /^input\.yaml:document 1: EndpointSlice default\/web-abc: metadata\.labels\["kubernetes\.io\/service-name"\]: error: missing: kube-proxy ignores an EndpointSlice that names no Service$/,
  );
  assert.equal(d.objects.endpointSlices[0]?.serviceName, null);
});

test('EndpointSlice with an unusable addressType is skipped; the next document still decodes', () => {
  const d = decodeYaml(docs(SLICE_HEAD.replace('addressType: IPv4', 'addressType: IP'), service('web', 'clusterIP: 10.0.0.1\nports:\n- port: 80')));
  assert.match(only(d, 'addressType'), /^input\.yaml:document 1: EndpointSlice default\/web-abc: addressType: error: "IP" is not IPv4, IPv6 or FQDN; the EndpointSlice is skipped$/);
  assert.equal(d.objects.endpointSlices.length, 0);
  assert.equal(d.objects.services.length, 1);
});

test('v1 Endpoints: addresses that are not IPs and unusable ports are dropped', () => {
  const d = decodeYaml(`apiVersion: v1
kind: Endpoints
metadata: {name: ext, namespace: prod}
subsets:
- addresses: [{ip: 192.0.2.10, nodeName: n1}, {ip: example.com}]
  notReadyAddresses: [{ip: 192.0.2.11}]
  ports: [{name: http, port: 80}, {name: bad, port: 0}]
`);
  assert.match(only(d, 'subsets[0].addresses[1].ip'), /^input\.yaml:document 1: Endpoints prod\/ext: subsets\[0\]\.addresses\[1\]\.ip: error: "example\.com" is not an IP address: the EndpointSlice mirroring controller skips it/);
  assert.match(only(d, 'subsets[0].ports[1].port'), /error: 0 is not a port number/);
  assert.deepEqual(d.objects.endpoints[0]?.subsets, [
    {
      addresses: [{ ip: '192.0.2.10', nodeName: 'n1', hostname: null }],
      notReadyAddresses: [{ ip: '192.0.2.11', nodeName: null, hostname: null }],
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    },
  ]);
});

test('Pod: podIP defaults podIPs, readiness, deletion, container and sidecar ports', () => {
  const d = decodeYaml(`apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: default, labels: {app: web}, deletionTimestamp: "2024-01-01T00:00:00Z"}
spec:
  nodeName: node-1
  containers:
  - name: web
    ports: [{name: http, containerPort: 8080}, {name: "bad name", containerPort: 1}, {containerPort: 9090, protocol: UDP}]
  initContainers:
  - {name: proxy, restartPolicy: Always, ports: [{name: admin, containerPort: 15000}]}
  - {name: init, ports: [{name: ignored, containerPort: 1234}]}
status:
  phase: Running
  podIP: 10.1.0.5
  conditions: [{type: Ready, status: "True"}]
`);
  assert.match(only(d, 'bad name'), /^input\.yaml:document 1: Pod default\/web-1: spec\.containers\[0\]\.ports\[1\]\.name: error: "bad name" is not a valid port name \(IANA_SVC_NAME\)/);
  const pod = d.objects.pods[0];
  assert.ok(pod);
  assert.deepEqual(pod.podIPs, ['10.1.0.5']);
  assert.equal(pod.ready, true);
  assert.equal(pod.phase, 'Running');
  assert.equal(pod.nodeName, 'node-1');
  assert.equal(pod.meta.deletionTimestamp, '2024-01-01T00:00:00Z');
  assert.deepEqual(pod.containerPorts, [
    { name: 'http', containerPort: 8080, protocol: 'TCP' },
    { name: '', containerPort: 9090, protocol: 'UDP' },
    { name: 'admin', containerPort: 15000, protocol: 'TCP' },
  ]);
});

test('Pod with an IP that is not an IP: the IP is dropped, the Pod kept', () => {
  const d = decodeYaml(`apiVersion: v1
kind: Pod
metadata: {name: p}
status: {podIPs: [{ip: 10.1.0.300}, {ip: fd00::5}]}
`);
  assert.match(only(d, 'podIPs'), /^input\.yaml:document 1: Pod default\/p: status\.podIPs\[0\]\.ip: error: "10\.1\.0\.300" is not an IP address \(dropped\)$/);
  assert.deepEqual(d.objects.pods[0]?.podIPs, ['fd00::5']);
  assert.equal(d.objects.pods[0].phase, 'Pending');
  assert.equal(d.objects.pods[0].ready, false);
});

test('Node and Deployment', () => {
  const d = decodeYaml(
    docs(
      `apiVersion: v1
kind: Node
metadata: {name: node-1, namespace: ignored, labels: {topology.kubernetes.io/zone: z1}}
spec: {podCIDR: 10.244.1.0/24, taints: [{key: dedicated, effect: NoSchedule}]}
status:
  addresses: [{type: InternalIP, address: 192.168.0.10}, {type: Hostname, address: node-1}, {type: ExternalIP, address: nope}]
`,
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, ports: [{name: http, containerPort: 80}]}]}
`,
    ),
  );
  assert.match(only(d, 'status.addresses[2].address'), /^input\.yaml:document 1: Node node-1: status\.addresses\[2\]\.address: error: "nope" is not an IP address \(dropped\)$/);
  const node = d.objects.nodes[0];
  assert.ok(node);
  assert.equal(node.meta.namespace, '');
  assert.deepEqual(node.addresses, [
    { type: 'InternalIP', address: '192.168.0.10' },
    { type: 'Hostname', address: 'node-1' },
  ]);
  assert.deepEqual(node.podCIDRs, ['10.244.1.0/24']);
  assert.deepEqual(node.taintKeys, ['dedicated']);
  const dep = d.objects.deployments[0];
  assert.ok(dep);
  assert.equal(dep.replicas, 1);
  assert.deepEqual(dep.podLabels, { app: 'web' });
  assert.deepEqual(dep.containerPorts, [{ name: 'http', containerPort: 80, protocol: 'TCP' }]);
});

test('kind List and typed lists are unpacked recursively; items without kind take the list item kind', () => {
  const d = decodeYaml(`apiVersion: v1
kind: List
items:
- ${service('a', 'clusterIP: 10.0.0.1\nports:\n- port: 80').trimEnd().split('\n').join('\n  ')}
- apiVersion: v1
  kind: ServiceList
  items:
  - metadata: {name: b, namespace: default}
    spec: {clusterIP: 10.0.0.2, ports: [{port: 80}]}
  - metadata: {name: c, namespace: default}
    spec: {clusterIP: 10.0.0.3, ports: [{port: 80, protocol: HTTP}]}
- null
- {apiVersion: v1, kind: ConfigMap, metadata: {name: cfg}}
`);
  assert.deepEqual(d.objects.services.map((s) => s.meta.name), ['a', 'b', 'c']);
  assert.match(only(d, 'HTTP'), /^input\.yaml:document 1: Service default\/c: items\[1\]\.items\[1\]\.spec\.ports\[0\]\.protocol: error: "HTTP" is not a supported protocol/);
  assert.match(only(d, 'items[2]'), /^input\.yaml:document 1: items\[2\]: error: null is not a Kubernetes object; skipped$/);
  assert.match(only(d, 'ConfigMap'), /^input\.yaml:document 1: ConfigMap cfg: items\[3\]: note: ignored: kproxy does not use kind "ConfigMap"$/);
});

test('objects that cannot be understood are skipped with an error; empty documents are silent', () => {
  // The leading "---" opens document 1 (comment only); YAML does not count an empty stream before it.
  const d = decodeYaml(
    docs(
      '',
      '# only a comment\n',
      'just a string\n',
      '- a\n- list\n',
      'apiVersion: v1\nmetadata: {name: x}\n',
      'apiVersion: v2\nkind: Service\nmetadata: {name: x}\n',
      'kind: Service\nmetadata: {name: nover}\nspec: {clusterIP: 10.0.0.9, ports: [{port: 80}]}\n',
      'apiVersion: v1\nkind: Service\nmetadata: {namespace: default}\nspec: {}\n',
      'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: "oops"\n',
    ),
  );
  const expected = [
    /^input\.yaml:document 2: error: the string "just a string" is not a Kubernetes object; skipped$/,
    /^input\.yaml:document 3: error: a list is not a Kubernetes object; skipped$/,
    /^input\.yaml:document 4: kind: error: missing: not a Kubernetes object; skipped$/,
    /^input\.yaml:document 5: Service default\/x: apiVersion: error: "v2" is not supported for kind Service \(kproxy reads v1\); skipped$/,
    /^input\.yaml:document 6: Service default\/nover: apiVersion: warning: missing; read as v1$/,
    /^input\.yaml:document 7: Service: metadata\.name: error: missing; the object is skipped$/,
    /^input\.yaml:document 8: Service default\/s: spec: error: must be a mapping, not the string "oops"; the Service is skipped$/,
  ];
  assert.equal(d.lines.length, expected.length, d.lines.join('\n'));
  for (const [i, re] of expected.entries()) assert.match(d.lines[i] ?? '', re);
  assert.deepEqual(d.objects.services.map((s) => s.meta.name), ['nover']);
});

test('duplicates: the later definition replaces the earlier one, with a warning', () => {
  const d = decodeYaml(
    docs(
      service('web', 'clusterIP: 10.0.0.1\nports:\n- port: 80'),
      service('other', 'clusterIP: 10.0.0.2\nports:\n- port: 80'),
      service('web', 'clusterIP: 10.0.0.3\nports:\n- port: 8080'),
    ),
    'dup.yaml',
  );
  assert.equal(only(d, 'default/web'), 'dup.yaml:document 3: Service default/web: warning: also defined at dup.yaml:document 1; this later definition replaces it');
  const web = d.objects.services.find((s) => s.meta.name === 'web');
  assert.equal(web?.clusterIP, '10.0.0.3');
  assert.deepEqual(d.objects.services.map((s) => s.meta.name), ['other', 'web']);
});

test('output is sorted by namespace and name whatever the input order', () => {
  const a = service('zeta', 'clusterIP: 10.0.0.1\nports:\n- port: 80').replace('namespace: default', 'namespace: alpha');
  const b = service('alpha', 'clusterIP: 10.0.0.2\nports:\n- port: 80').replace('namespace: default', 'namespace: beta');
  const c = service('beta', 'clusterIP: 10.0.0.3\nports:\n- port: 80').replace('namespace: default', 'namespace: alpha');
  const names = (text: string): string[] => decodeYaml(text).objects.services.map((s) => `${s.meta.namespace}/${s.meta.name}`);
  assert.deepEqual(names(docs(a, b, c)), ['alpha/beta', 'alpha/zeta', 'beta/alpha']);
  assert.deepEqual(names(docs(c, b, a)), ['alpha/beta', 'alpha/zeta', 'beta/alpha']);
});
