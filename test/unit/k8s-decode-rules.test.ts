/**
 * One row per diagnostic rule not covered elsewhere: the document, the exact start of the
 * printed line (file, document, kind, object, field, severity) and the rest of the message;
 * a valid Service follows every case and must still decode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeYaml, loadYaml, service } from './k8s-helpers.js';

interface Case {
  readonly name: string;
  readonly doc: string;
  /** `Kind namespace/name: field: severity` as printed after `input.yaml:document 1: `. */
  readonly where: string;
  readonly message: RegExp;
  /** Whether the object itself must still be decoded (false: skipped). */
  readonly kept: boolean;
  readonly pipeline?: boolean;
}

const S = (spec: string, extra = ''): string => service('s', spec, extra);
const SLICE = (body: string): string => `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: sl, namespace: default, labels: {kubernetes.io/service-name: s}}
addressType: IPv4
${body}`;

const CASES: readonly Case[] = [
  { name: 'clusterIP of the wrong type', doc: S('clusterIP: 10\nports:\n- port: 80'), where: 'Service default/s: spec.clusterIP: error', message: /must be a string, not the number 10; the Service is skipped$/, kept: false },
  { name: 'ipFamilies with an unknown family', doc: S('clusterIP: 10.0.0.1\nipFamilies: [IPv5]\nports:\n- port: 80'), where: 'Service default/s: spec.ipFamilies[0]: error', message: /"IPv5" is not an IP family \(IPv4 or IPv6\); the Service is skipped$/, kept: false },
  { name: 'clusterIPs[0] differs from clusterIP', doc: S('clusterIP: 10.0.0.1\nclusterIPs: [10.0.0.2]\nports:\n- port: 80'), where: 'Service default/s: spec.clusterIPs: warning', message: /differs from spec\.clusterIP "10\.0\.0\.1": an API server refuses this; kube-proxy uses spec\.clusterIPs$/, kept: true },
  { name: 'ports not a list', doc: S('clusterIP: 10.0.0.1\nports: {port: 80}'), where: 'Service default/s: spec.ports: error', message: /must be a list, not a mapping; the Service is skipped$/, kept: false },
  { name: 'nodePort not a port number', doc: S('type: NodePort\nclusterIP: 10.0.0.1\nports:\n- {port: 80, nodePort: 70000}'), where: 'Service default/s: spec.ports[0].nodePort: error', message: /70000 is not a port number \(1-65535\) \(dropped\)$/, kept: true },
  { name: 'targetPort out of range', doc: S('clusterIP: 10.0.0.1\nports:\n- {port: 80, targetPort: 65536}'), where: 'Service default/s: spec.ports[0].targetPort: error', message: /65536 is not a port number \(1-65535\); ignored, so it defaults to the port 80$/, kept: true },
  { name: 'affinity timeout out of range', doc: S('clusterIP: 10.0.0.1\nsessionAffinity: ClientIP\nsessionAffinityConfig: {clientIP: {timeoutSeconds: 86401}}\nports:\n- port: 80'), where: 'Service default/s: spec.sessionAffinityConfig.clientIP.timeoutSeconds: warning', message: /86401 is outside 1-86400: an API server refuses it; kube-proxy uses it$/, kept: true },
  { name: 'unknown sessionAffinity', doc: S('clusterIP: 10.0.0.1\nsessionAffinity: Sticky\nports:\n- port: 80'), where: 'Service default/s: spec.sessionAffinity: warning', message: /"Sticky" is not one of None, ClientIP: .* treats it as None$/, kept: true },
  { name: 'health-check port outside the node-port range', doc: S('type: LoadBalancer\nclusterIP: 10.0.0.1\nexternalTrafficPolicy: Local\nhealthCheckNodePort: 10256\nports:\n- {port: 80, nodePort: 30001}'), where: 'Service default/s: spec.healthCheckNodePort: warning', message: /10256 is outside the default node-port range/, kept: true },
  { name: 'health-check port not a port', doc: S('type: LoadBalancer\nclusterIP: 10.0.0.1\nexternalTrafficPolicy: Local\nhealthCheckNodePort: -1\nports:\n- {port: 80, nodePort: 30001}'), where: 'Service default/s: spec.healthCheckNodePort: error', message: /-1 is not a port number \(1-65535\) \(dropped\)$/, kept: true },
  { name: 'ingress on a ClusterIP Service', doc: `${S('clusterIP: 10.0.0.1\nports:\n- port: 80')}status: {loadBalancer: {ingress: [{ip: 1.2.3.4}]}}\n`, where: 'Service default/s: status.loadBalancer.ingress: warning', message: /set on a Service of type ClusterIP: kube-proxy programs these IPs even so$/, kept: true },
  { name: 'externalIPs not a list', doc: S('clusterIP: 10.0.0.1\nexternalIPs: 1.2.3.4\nports:\n- port: 80'), where: 'Service default/s: spec.externalIPs: error', message: /must be a list, not the string "1\.2\.3\.4" \(dropped\)$/, kept: true },
  { name: 'trafficDistribution of the wrong type', doc: S('clusterIP: 10.0.0.1\ntrafficDistribution: 1\nports:\n- port: 80'), where: 'Service default/s: spec.trafficDistribution: error', message: /must be a string, not the number 1 \(dropped\)$/, kept: true },
  { name: 'annotations not a mapping', doc: S('clusterIP: 10.0.0.1\nports:\n- port: 80', '  annotations: [a]\n'), where: 'Service default/s: metadata.annotations: error', message: /must be a mapping, not a list \(dropped\)$/, kept: true },
  { name: 'metadata not a mapping', doc: 'apiVersion: v1\nkind: Service\nmetadata: [x]\n', where: 'Service: metadata: error', message: /must be a mapping, not a list; the object is skipped$/, kept: false },
  { name: 'slice ports not a list', doc: SLICE('ports: 80\n'), where: 'EndpointSlice default/sl: ports: error', message: /must be a list, not the number 80; the EndpointSlice is skipped$/, kept: false },
  { name: 'slice endpoints not a list', doc: SLICE('endpoints: {addresses: [10.0.0.1]}\n'), where: 'EndpointSlice default/sl: endpoints: error', message: /must be a list, not a mapping; the EndpointSlice is skipped$/, kept: false },
  { name: 'slice port used twice', doc: SLICE('ports: [{name: a, port: 80}, {name: a, port: 81}]\n'), where: 'EndpointSlice default/sl: ports: warning', message: /two ports named "a" with protocol TCP: an API server refuses this; kube-proxy uses both$/, kept: true },
  { name: 'slice endpoint hint without a name', doc: SLICE('endpoints: [{addresses: [10.0.0.1], hints: {forZones: [{}]}}]\n'), where: 'EndpointSlice default/sl: endpoints[0].hints.forZones[0].name: error', message: /missing \(dropped\)$/, kept: true },
  { name: 'Endpoints subsets not a list', doc: 'apiVersion: v1\nkind: Endpoints\nmetadata: {name: s}\nsubsets: {}\n', where: 'Endpoints default/s: subsets: error', message: /must be a list, not a mapping; the Endpoints object is skipped$/, kept: false },
  { name: 'Pod podIP differs from podIPs[0]', doc: 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus: {podIP: 10.1.0.1, podIPs: [{ip: 10.1.0.2}]}\n', where: 'Pod default/p: status.podIP: warning', message: /"10\.1\.0\.1" differs from status\.podIPs\[0\]: .*status\.podIPs is used$/, kept: true },
  { name: 'Pod deletionTimestamp of the wrong type', doc: 'apiVersion: v1\nkind: Pod\nmetadata: {name: p, deletionTimestamp: 5}\n', where: 'Pod default/p: metadata.deletionTimestamp: error', message: /must be a string, not the number 5 \(dropped\)$/, kept: true },
  { name: 'container port without a number', doc: 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, ports: [{name: http}]}]}\n', where: 'Pod default/p: spec.containers[0].ports[0].containerPort: error', message: /missing; spec\.containers\[0\]\.ports\[0\] is dropped$/, kept: true },
  { name: 'Node podCIDR that is not a CIDR', doc: 'apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nspec: {podCIDRs: [10.244.0.0/16, 10.244.0.0]}\n', where: 'Node n1: spec.podCIDRs[1]: error', message: /"10\.244\.0\.0" is not a CIDR \(dropped\)$/, kept: true },
  { name: 'Node with an invalid name', doc: 'apiVersion: v1\nkind: Node\nmetadata: {name: "node 1"}\n', where: 'Node: metadata.name: error', message: /"node 1" is not a valid name \(a DNS-1123 subdomain/, kept: false },
  { name: 'Deployment with negative replicas', doc: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: -2}\n', where: 'Deployment default/d: spec.replicas: error', message: /-2 is negative; ignored, so it defaults to 1$/, kept: true },
  { name: 'Deployment of an old apiVersion', doc: 'apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: d}\n', where: 'Deployment default/d: apiVersion: error', message: /"extensions\/v1beta1" is not supported for kind Deployment \(kproxy reads apps\/v1\); skipped$/, kept: false },
  { name: 'list items not a list', doc: 'apiVersion: v1\nkind: List\nitems: {a: 1}\n', where: 'List: items: error', message: /must be a list, not a mapping; skipped$/, kept: false },
  {
    name: 'more Endpoints addresses than the mirroring controller copies',
    doc: `${S('clusterIP: 10.0.0.1\nports:\n- port: 80')}---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: s}\nsubsets:\n- ports: [{port: 80}]\n  addresses:\n${Array.from({ length: 1002 }, (_, i) => `  - {ip: 10.2.${Math.floor(i / 250)}.${i % 250}}`).join('\n')}\n`,
    where: 'Endpoints default/s: subsets[0]: warning',
    message: /2 addresses beyond the first 1000 are not mirrored into EndpointSlices/,
    kept: true,
    pipeline: true,
  },
];

const GOOD = service('good', 'clusterIP: 10.9.9.9\nports:\n- port: 80');

for (const c of CASES) {
  test(`rule: ${c.name}`, () => {
    const text = `${c.doc}---\n${GOOD}`;
    const d = c.pipeline === true ? loadYaml(text) : decodeYaml(text);
    const matching = d.lines.filter((l) => l.includes(c.where));
    assert.equal(matching.length, 1, d.lines.join('\n'));
    const line = matching[0] ?? '';
    const docNumber = c.pipeline === true ? 2 : 1;
    const prefix = `input.yaml:document ${docNumber}: ${c.where}: `;
    assert.ok(line.startsWith(prefix), `${line}\n  should start with\n${prefix}`);
    assert.match(line.slice(prefix.length), c.message);
    assert.ok(d.objects.services.some((s) => s.meta.name === 'good'), 'the next document still decodes');
    const all = [...d.objects.services, ...d.objects.endpointSlices, ...d.objects.endpoints, ...d.objects.pods, ...d.objects.nodes, ...d.objects.deployments];
    const decodedOthers = all.filter((o) => o.meta.name !== 'good').length;
    assert.equal(decodedOthers > 0, c.kept, `object ${c.kept ? 'kept' : 'skipped'}`);
  });
}

test('rule: a LoadBalancer without node ports by choice is no warning', () => {
  const d = decodeYaml(S('type: LoadBalancer\nclusterIP: 10.0.0.1\nallocateLoadBalancerNodePorts: false\nports:\n- port: 80'));
  assert.deepEqual(d.lines, []);
});
