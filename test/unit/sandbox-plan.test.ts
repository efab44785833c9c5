import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isKproxyError } from '../../src/core/errors.js';
import { MAX_INTERFACE_NAME, podVethName, uplinkName, bridgeName, runIdOfNetns } from '../../src/runtime/sandbox/naming.js';
import { repoPath } from '../helpers/paths.js';
import { plannedSandbox } from '../helpers/sandbox.js';

const ARTICLE = readFileSync(repoPath('examples/article-nginx.yaml'), 'utf8');

const EXTRA = `
---
apiVersion: v1
kind: Service
metadata: {name: np, namespace: default}
spec:
  type: NodePort
  selector: {k8s-app: nginx}
  ports:
  - {name: a, port: 80, protocol: TCP, targetPort: 80}
  - {name: b, port: 81, protocol: TCP, targetPort: 80, nodePort: 30000}
---
apiVersion: v1
kind: Service
metadata: {name: lb, namespace: default}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {k8s-app: nginx}
  ports:
  - {port: 80, protocol: TCP, targetPort: 80}
`;

describe('sandbox plan', () => {
  it('gives the article pods 172.18.0.5-7 on node-1 and keeps the ClusterIP 172.18.255.127', () => {
    const s = plannedSandbox(ARTICLE);
    const workload = s.pods.filter((p) => p.role === 'workload');
    assert.deepEqual(workload.map((p) => [p.name, p.nodeName, p.ip]), [
      ['nginx-0', 'node-1', '172.18.0.5'],
      ['nginx-1', 'node-1', '172.18.0.6'],
      ['nginx-2', 'node-1', '172.18.0.7'],
    ]);
    const client = s.pods.filter((p) => p.role === 'client');
    assert.deepEqual(client.map((p) => [p.name, p.ip]), [['client-node-1', '172.18.0.254']]);
    assert.equal(s.services[0]?.clusterIP, '172.18.255.127');
    assert.deepEqual(s.nodes.map((n) => [n.name, n.address, n.podCIDR, n.netns]), [
      ['node-1', '198.51.100.2', '172.18.0.0/24', 'kpx-abc123-node-1'],
    ]);
    assert.equal(workload[0]?.netns, 'kpx-abc123-pod-nginx-0');
    assert.deepEqual(workload[0].serverPorts, [80], 'no container port declared: the server answers on 80');
  });

  it('spreads pods over nodes, each with its own podCIDR, and routes them by node', () => {
    const s = plannedSandbox(ARTICLE, 2);
    assert.deepEqual(s.nodes.map((n) => [n.name, n.address, n.podCIDR]), [
      ['node-1', '198.51.100.2', '172.18.0.0/24'],
      ['node-2', '198.51.100.3', '172.18.1.0/24'],
    ]);
    const placed = s.pods.filter((p) => p.role === 'workload').map((p) => [p.name, p.nodeName, p.ip]);
    assert.deepEqual(placed, [
      ['nginx-0', 'node-1', '172.18.0.5'],
      ['nginx-1', 'node-2', '172.18.1.5'],
      ['nginx-2', 'node-1', '172.18.0.6'],
    ]);
    assert.deepEqual(s.pods.filter((p) => p.role === 'client').map((p) => p.ip), ['172.18.0.254', '172.18.1.254']);
  });

  it('allocates ClusterIPs, nodePorts (skipping taken ones), LB ingress and a health-check port', () => {
    const s = plannedSandbox(ARTICLE + EXTRA);
    const byName = new Map(s.services.map((x) => [x.meta.name, x]));
    assert.equal(byName.get('lb')?.clusterIP, '172.18.255.10');
    assert.equal(byName.get('np')?.clusterIP, '172.18.255.11');
    assert.deepEqual(byName.get('lb')?.clusterIPs, ['172.18.255.10']);
    // lb sorts before np: its port takes 30001 (30000 is np's explicit port), its health check 30002.
    assert.deepEqual(byName.get('lb')?.ports.map((p) => p.nodePort), [30001]);
    assert.equal(byName.get('lb')?.healthCheckNodePort, 30002);
    assert.deepEqual(byName.get('np')?.ports.map((p) => p.nodePort), [30003, 30000]);
    assert.deepEqual(byName.get('lb')?.loadBalancerIngress.map((i) => i.ip), ['203.0.113.10']);
    assert.deepEqual(byName.get('nginx')?.ports.map((p) => p.nodePort), [0], 'a ClusterIP service gets no nodePort');
  });

  it('honours explicit pod IPs and places the pod on the node owning the address', () => {
    const s = plannedSandbox(
      `${ARTICLE}
---
apiVersion: v1
kind: Pod
metadata: {name: fixed, namespace: default, labels: {app: fixed}}
spec: {containers: [{name: c, ports: [{containerPort: 8080, name: web}]}]}
status: {podIP: 172.18.1.9, podIPs: [{ip: 172.18.1.9}]}
`,
      2,
    );
    const fixed = s.pods.find((p) => p.name === 'fixed');
    assert.equal(fixed?.ip, '172.18.1.9');
    assert.equal(fixed.nodeName, 'node-2');
    assert.deepEqual(fixed.serverPorts, [8080]);
    assert.equal(s.pods.filter((p) => p.ip === '172.18.1.9').length, 1);
  });

  it('refuses a pod IP outside every podCIDR, naming the pod and the field', () => {
    assert.throws(
      () =>
        plannedSandbox(`apiVersion: v1
kind: Pod
metadata: {name: lost, namespace: default}
spec: {containers: [{name: c}]}
status: {podIP: 10.9.9.9, podIPs: [{ip: 10.9.9.9}]}
`),
      (err: unknown) => isKproxyError(err) && err.code === 'E_SANDBOX' && /Pod default\/lost: status.podIP 10.9.9.9/.test(err.message),
    );
  });

  it('uses the podCIDR and name of Node manifests, and adds generated nodes that do not overlap', () => {
    const s = plannedSandbox(
      `apiVersion: v1
kind: Node
metadata: {name: worker-a}
spec: {podCIDR: 172.18.0.0/24, podCIDRs: [172.18.0.0/24]}
`,
      2,
    );
    assert.deepEqual(s.nodes.map((n) => [n.name, n.podCIDR]), [
      ['worker-a', '172.18.0.0/24'],
      ['node-1', '172.18.1.0/24'],
    ]);
  });

  it('names interfaces within 15 characters, with the run prefix', () => {
    for (const name of [podVethName('abc123', 99999), uplinkName('abc123', 200), bridgeName('abc123')]) {
      assert.ok(name.length <= MAX_INTERFACE_NAME, name);
      assert.ok(name.startsWith('kpxabc123'), name);
    }
    assert.throws(() => podVethName('abc123', 123456), RangeError);
    assert.equal(runIdOfNetns('kpx-abc123-node-1'), 'abc123');
    assert.equal(runIdOfNetns('kpx-zzz-node-1'), null);
    assert.equal(runIdOfNetns('other'), null);
  });
});
