import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeObjects } from '../../src/core/k8s/decode.js';
import { DiagnosticSink, formatDiagnostic } from '../../src/core/model/diagnostics.js';
import type { Service } from '../../src/core/model/objects.js';
import { renderManifests } from '../../src/runtime/sandbox/manifests.js';
import { allPodsRunning } from '../../src/runtime/sandbox/changes.js';
import { buildEndpointSlices, endpointConditions, slicesForService } from '../../src/runtime/sandbox/slices.js';
import type { SandboxPodState, SandboxState } from '../../src/runtime/sandbox/types.js';
import { parseManifestText } from '../../src/runtime/sources/files.js';
import { plannedSandbox } from '../helpers/sandbox.js';

const YAML = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: c
        ports: [{name: http, containerPort: 8080, protocol: TCP}, {name: dns, containerPort: 5353, protocol: UDP}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-old, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: web, old: "yes"}}
  template:
    metadata: {labels: {app: web, old: "yes"}}
    spec:
      containers:
      - name: c
        ports: [{name: http, containerPort: 9090, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, protocol: TCP, targetPort: http}
  - {name: dns, port: 53, protocol: UDP, targetPort: dns}
---
apiVersion: v1
kind: Service
metadata: {name: lb, namespace: default}
spec:
  type: LoadBalancer
  selector: {app: web}
  sessionAffinity: ClientIP
  ports:
  - {port: 80, protocol: TCP, targetPort: 8080}
---
apiVersion: v1
kind: Service
metadata: {name: manual, namespace: default}
spec:
  clusterIP: 172.18.255.200
  ports:
  - {port: 80, protocol: TCP}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: manual-1, namespace: default, labels: {kubernetes.io/service-name: manual}}
addressType: IPv4
ports: [{name: "", port: 80, protocol: TCP}]
endpoints: [{addresses: [192.0.2.7], conditions: {ready: true}}]
`;

function state(nodes = 1): SandboxState {
  return plannedSandbox(YAML, nodes);
}

function svc(s: SandboxState, name: string): Service {
  const found = s.services.find((x) => x.meta.name === name);
  assert.ok(found, name);
  return found;
}

describe('sandbox EndpointSlices', () => {
  it('derives ready / serving / terminating from the pod phase, as the EndpointSlice controller does', () => {
    const s = state();
    const service = svc(s, 'web');
    const pod = s.pods[0] as SandboxPodState;
    assert.deepEqual(endpointConditions(service, { ...pod, phase: 'Pending' }), { ready: false, serving: false, terminating: false });
    assert.deepEqual(endpointConditions(service, { ...pod, phase: 'Running' }), { ready: true, serving: true, terminating: false });
    assert.deepEqual(endpointConditions(service, { ...pod, phase: 'Terminating' }), { ready: false, serving: true, terminating: true });
    const pna = { ...service, publishNotReadyAddresses: true };
    assert.deepEqual(endpointConditions(pna, { ...pod, phase: 'Pending' }), { ready: true, serving: false, terminating: false });
  });

  it('resolves named targetPorts per pod and groups pods with different ports into separate slices', () => {
    const s = allPodsRunning(state());
    const slices = slicesForService(svc(s, 'web'), s.pods);
    const summary = slices.map((sl) => ({
      ports: sl.ports.map((p) => `${p.name ?? ''}:${p.port ?? 0}/${p.protocol}`),
      ips: sl.endpoints.map((e) => e.addresses[0]),
    }));
    assert.deepEqual(
      summary.sort((a, b) => a.ports.length - b.ports.length),
      [
        // web-old has no "dns" port: it is in a slice of its own without it.
        { ports: ['http:9090/TCP'], ips: ['172.18.0.7'] },
        { ports: ['http:8080/TCP', 'dns:5353/UDP'], ips: ['172.18.0.5', '172.18.0.6'] },
      ],
    );
    for (const sl of slices) {
      assert.equal(sl.serviceName, 'web');
      assert.match(sl.meta.name, /^web-[0-9a-z]{5}$/);
      for (const e of sl.endpoints) assert.equal(e.nodeName, 'node-1');
    }
    assert.notEqual(slices[0]?.meta.name, slices[1]?.meta.name);
  });

  it('never selects client pods, and gives a Service without pods one empty slice', () => {
    const s = allPodsRunning(state());
    const everything: Service = { ...svc(s, 'web'), selector: {} };
    const ips = slicesForService(everything, s.pods).flatMap((sl) => sl.endpoints.map((e) => e.addresses[0]));
    assert.ok(!ips.includes('172.18.0.254'), 'the client pod is not an endpoint');
    assert.equal(ips.length, 3);
    const none: Service = { ...svc(s, 'web'), selector: { app: 'nothing' } };
    const empty = slicesForService(none, s.pods);
    assert.equal(empty.length, 1);
    assert.deepEqual(empty[0]?.endpoints, []);
  });

  it('passes the given slices of a selectorless Service through', () => {
    const s = allPodsRunning(state());
    const all = buildEndpointSlices(s.services, s.pods, s.inputSlices);
    const manual = all.filter((sl) => sl.serviceName === 'manual');
    assert.deepEqual(manual.map((sl) => sl.endpoints.map((e) => e.addresses[0])), [['192.0.2.7']]);
  });

  it('writes manifests that decode back to the same Nodes, Services and EndpointSlices', () => {
    const s = allPodsRunning(state(2));
    const text = renderManifests(s);
    const sink = new DiagnosticSink();
    const back = decodeObjects(parseManifestText(text, 'cluster.yaml', sink), sink);
    assert.deepEqual(sink.all.filter((d) => d.severity !== 'note').map(formatDiagnostic), []);
    assert.deepEqual(
      back.nodes.map((n) => [n.meta.name, n.podCIDRs, n.addresses.find((a) => a.type === 'InternalIP')?.address]),
      s.nodes.map((n) => [n.name, [n.podCIDR], n.address]),
    );
    const strip = (x: Service) => ({ ...x, meta: { ...x.meta, source: null } });
    const byName = (a: Service, b: Service) => (a.meta.name < b.meta.name ? -1 : 1);
    assert.deepEqual([...back.services].sort(byName).map(strip), [...s.services].sort(byName).map(strip));
    const expected = buildEndpointSlices(s.services, s.pods, s.inputSlices);
    const view = (sl: (typeof expected)[number]) => ({
      name: sl.meta.name,
      service: sl.serviceName,
      ports: sl.ports,
      endpoints: sl.endpoints,
    });
    const sortSlices = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : 1);
    assert.deepEqual(back.endpointSlices.map(view).sort(sortSlices), expected.map(view).sort(sortSlices));
    const lb = back.services.find((x) => x.meta.name === 'lb');
    assert.deepEqual(lb?.loadBalancerIngress.map((i) => i.ip), ['203.0.113.10']);
    assert.equal(lb.sessionAffinity, 'ClientIP');
  });
});
