/**
 * The sandbox on the real kernel: nodes, pods and the external client are wired as SANDBOX.md
 * says, pods answer on their own addresses from everywhere, the published manifests describe
 * the cluster, kube-proxy-format rules in a node work, and `down` leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it, type TestContext } from 'node:test';
import { DiagnosticSink } from '../../src/core/model/diagnostics.js';
import { isExecError } from '../../src/runtime/exec/index.js';
import { createSandbox, type Sandbox } from '../../src/runtime/sandbox/index.js';
import { RUNS_DIR } from '../../src/runtime/sandbox/store.js';
import { loadClusterObjects } from '../../src/runtime/sources/files.js';
import { assertRunGone, objectsFromYaml, pidAlive, requireKernel, tempStateRoot } from '../helpers/e2e.js';
import { repoPath } from '../helpers/paths.js';

const MANIFESTS = `${readFileSync(repoPath('examples/article-nginx.yaml'), 'utf8')}
---
apiVersion: v1
kind: Service
metadata: {name: nginx-nodeport, namespace: default}
spec:
  type: NodePort
  selector: {k8s-app: nginx, qcloud-app: nginx}
  ports:
  - {port: 80, protocol: TCP, targetPort: 80, nodePort: 30080}
---
apiVersion: v1
kind: Service
metadata: {name: nginx-lb, namespace: default}
spec:
  type: LoadBalancer
  selector: {k8s-app: nginx, qcloud-app: nginx}
  ports:
  - {port: 80, protocol: TCP, targetPort: 80}
`;

/** The article's rules (reference §5.11) plus a NodePort 30080 on the same endpoints, and the jumps. */
const ARTICLE_RULES = `*filter
:KUBE-FORWARD - [0:0]
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
COMMIT
*nat
:KUBE-SERVICES - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-SVC-2CMXP7HKUVJN7L6M - [0:0]
:KUBE-EXT-2CMXP7HKUVJN7L6M - [0:0]
:KUBE-SEP-QLIJNPST3ICX5TJY - [0:0]
:KUBE-SEP-GLPL34GQHSYFHR3G - [0:0]
:KUBE-SEP-HI2F4S4VJRUG452O - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
-A KUBE-SERVICES -m comment --comment "default/nginx cluster IP" -m tcp -p tcp -d 172.18.255.127 --dport 80 -j KUBE-SVC-2CMXP7HKUVJN7L6M
-A KUBE-NODEPORTS -m comment --comment default/nginx-nodeport -m tcp -p tcp --dport 30080 -j KUBE-EXT-2CMXP7HKUVJN7L6M
-A KUBE-EXT-2CMXP7HKUVJN7L6M -m comment --comment "masquerade traffic for default/nginx-nodeport external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-2CMXP7HKUVJN7L6M -j KUBE-SVC-2CMXP7HKUVJN7L6M
-A KUBE-SVC-2CMXP7HKUVJN7L6M -m comment --comment "default/nginx -> 172.18.0.5:80" -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-QLIJNPST3ICX5TJY
-A KUBE-SVC-2CMXP7HKUVJN7L6M -m comment --comment "default/nginx -> 172.18.0.6:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-GLPL34GQHSYFHR3G
-A KUBE-SVC-2CMXP7HKUVJN7L6M -m comment --comment "default/nginx -> 172.18.0.7:80" -j KUBE-SEP-HI2F4S4VJRUG452O
-A KUBE-SEP-QLIJNPST3ICX5TJY -m comment --comment default/nginx -s 172.18.0.5 -j KUBE-MARK-MASQ
-A KUBE-SEP-QLIJNPST3ICX5TJY -m comment --comment default/nginx -m tcp -p tcp -j DNAT --to-destination 172.18.0.5:80
-A KUBE-SEP-GLPL34GQHSYFHR3G -m comment --comment default/nginx -s 172.18.0.6 -j KUBE-MARK-MASQ
-A KUBE-SEP-GLPL34GQHSYFHR3G -m comment --comment default/nginx -m tcp -p tcp -j DNAT --to-destination 172.18.0.6:80
-A KUBE-SEP-HI2F4S4VJRUG452O -m comment --comment default/nginx -s 172.18.0.7 -j KUBE-MARK-MASQ
-A KUBE-SEP-HI2F4S4VJRUG452O -m comment --comment default/nginx -m tcp -p tcp -j DNAT --to-destination 172.18.0.7:80
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
COMMIT
`;

let root = '';
let removeRoot: () => Promise<void> = () => Promise.resolve();

before(async () => {
  ({ root, remove: removeRoot } = await tempStateRoot());
});
after(async () => {
  await removeRoot();
});

/** Pods answer on their own address: TCP and UDP, with the client's address unchanged. */
async function assertPodsAnswer(sb: Sandbox, fromNetns: string, expectedSource: string): Promise<void> {
  for (const pod of sb.pods) {
    const tcp = await sb.httpRequests(fromNetns, pod.ip, 80, { count: 3 });
    assert.deepEqual({ byPod: tcp.byPod, bySource: tcp.bySource, errors: tcp.errors }, {
      byPod: { [pod.name]: 3 },
      bySource: { [expectedSource]: 3 },
      errors: 0,
    }, `TCP from ${fromNetns} to ${pod.name} (${pod.ip})`);
    const udp = await sb.udpRequests(fromNetns, pod.ip, 80, { count: 2 });
    assert.deepEqual({ byPod: udp.byPod, errors: udp.errors }, { byPod: { [pod.name]: 2 }, errors: 0 }, `UDP to ${pod.name}`);
  }
}

async function withSandbox(t: TestContext, nodes: number, name: string, body: (sb: Sandbox) => Promise<void>): Promise<void> {
  const sb = await createSandbox(objectsFromYaml(MANIFESTS), { name, nodes, stateRoot: root });
  const pids: number[] = [];
  try {
    pids.push(...sb.pods.flatMap((p) => (p.pid === null ? [] : [p.pid])));
    await body(sb);
  } finally {
    await sb.down();
  }
  await assertRunGone(sb.id, pids);
  assert.ok(!existsSync(sb.stateDir), 'the state directory is removed');
  assert.ok(!existsSync(`${RUNS_DIR}/${sb.id}.json`), 'the run is unregistered');
  t.diagnostic(`run ${sb.id} fully removed`);
}

describe('sandbox topology (real kernel)', () => {
  it('one node: the article pods answer from the client pod, the node and outside; manifests describe it', async (t) => {
    if (!requireKernel(t)) return;
    await withSandbox(t, 1, 'one', async (sb) => {
      assert.deepEqual(sb.pods.map((p) => [p.name, p.ip, p.phase]), [
        ['nginx-0', '172.18.0.5', 'Running'],
        ['nginx-1', '172.18.0.6', 'Running'],
        ['nginx-2', '172.18.0.7', 'Running'],
      ]);
      for (const p of sb.pods) assert.ok(p.pid !== null && pidAlive(p.pid), `${p.name} server runs`);
      const node = sb.node();
      assert.equal((await sb.exec(node.netns, ['cat', '/proc/sys/net/ipv4/ip_forward'])).stdout.trim(), '1');
      const veth = sb.pod('nginx-0').hostVeth;
      assert.equal((await sb.exec(node.netns, ['cat', `/proc/sys/net/ipv4/conf/${veth}/proxy_arp`])).stdout.trim(), '1');
      const podRoutes = (await sb.exec(sb.podNetns('nginx-0'), ['ip', 'route'])).stdout;
      assert.match(podRoutes, /default via 169\.254\.1\.1 dev eth0/);
      assert.match((await sb.exec(node.netns, ['ip', 'route'])).stdout, /default via 198\.51\.100\.1 dev eth0/);

      await assertPodsAnswer(sb, sb.clientNetns(), sb.clientPod().ip);
      await assertPodsAnswer(sb, sb.externalNetns, sb.externalAddress);
      const [extra] = await sb.addExternalAddresses(2);
      assert.equal(extra, '198.51.100.200');
      const fromExtra = await sb.httpRequests(sb.externalNetns, '172.18.0.6', 80, { count: 2, sourceIP: extra });
      assert.deepEqual(fromExtra.bySource, { '198.51.100.200': 2 }, 'a chosen source address is used and routed back');

      const sink = new DiagnosticSink();
      const cluster = await loadClusterObjects([sb.manifestsDir], sink);
      assert.deepEqual(cluster.nodes.map((n) => [n.meta.name, n.podCIDRs, n.addresses[0]?.address]), [
        ['node-1', ['172.18.0.0/24'], '198.51.100.2'],
      ]);
      const services = new Map(cluster.services.map((s) => [s.meta.name, s]));
      assert.equal(services.get('nginx')?.clusterIP, '172.18.255.127');
      assert.equal(services.get('nginx-nodeport')?.ports[0]?.nodePort, 30080);
      assert.ok((services.get('nginx-lb')?.ports[0]?.nodePort ?? 0) >= 30000);
      assert.deepEqual(services.get('nginx-lb')?.loadBalancerIngress.map((i) => i.ip), ['203.0.113.10']);
      const slice = cluster.endpointSlices.find((s) => s.serviceName === 'nginx');
      assert.deepEqual(
        slice?.endpoints.map((e) => [e.addresses[0], e.nodeName, e.conditions]),
        ['172.18.0.5', '172.18.0.6', '172.18.0.7'].map((ip) => [ip, 'node-1', { ready: true, serving: true, terminating: false }]),
      );
    });
  });

  it('two nodes: pods spread, podCIDRs routed between nodes and from outside', async (t) => {
    if (!requireKernel(t)) return;
    await withSandbox(t, 2, 'two', async (sb) => {
      assert.deepEqual(sb.nodes.map((n) => [n.name, n.address, n.podCIDR]), [
        ['node-1', '198.51.100.2', '172.18.0.0/24'],
        ['node-2', '198.51.100.3', '172.18.1.0/24'],
      ]);
      assert.deepEqual(sb.pods.map((p) => [p.name, p.nodeName]), [
        ['nginx-0', 'node-1'],
        ['nginx-1', 'node-2'],
        ['nginx-2', 'node-1'],
      ]);
      await assertPodsAnswer(sb, sb.clientNetns('node-1'), sb.clientPod('node-1').ip);
      await assertPodsAnswer(sb, sb.clientNetns('node-2'), sb.clientPod('node-2').ip);
      await assertPodsAnswer(sb, sb.externalNetns, sb.externalAddress);
      const fromNode = await sb.httpRequests(sb.nodeNetns('node-1'), sb.pod('nginx-1').ip, 80, { count: 2 });
      assert.deepEqual(fromNode.byPod, { 'nginx-1': 2 }, 'node-1 reaches a pod on node-2');
    });
  });

  it('kube-proxy-format rules in the node: ClusterIP from a pod and the node, NodePort from outside reach every pod', async (t) => {
    if (!requireKernel(t)) return;
    await withSandbox(t, 1, 'rules', async (sb) => {
      const node = sb.nodeNetns();
      await sb.exec(node, ['iptables-restore', '--noflush'], { stdin: ARTICLE_RULES });
      const saved = (await sb.exec(node, ['iptables-save', '-t', 'nat'])).stdout;
      assert.match(saved, /--probability 0\.33333333349 -j KUBE-SEP-QLIJNPST3ICX5TJY/);
      const cases = [
        { from: sb.clientNetns(), ip: '172.18.255.127', port: 80 },
        { from: node, ip: '172.18.255.127', port: 80 },
        { from: sb.externalNetns, ip: sb.node().address, port: 30080 },
        { from: sb.podNetns('nginx-0'), ip: '172.18.255.127', port: 80 },
      ];
      for (const c of cases) {
        const r = await sb.httpRequests(c.from, c.ip, c.port, { count: 90, concurrency: 6 });
        assert.equal(r.errors, 0, `${c.from} -> ${c.ip}:${c.port}: ${JSON.stringify(r.errorKinds)}`);
        assert.deepEqual(Object.keys(r.byPod).sort(), ['nginx-0', 'nginx-1', 'nginx-2'], `${c.from} reaches every pod`);
      }
    });
  });

  it('a rejected restore input is reported with its failing line', async (t) => {
    if (!requireKernel(t)) return;
    await withSandbox(t, 1, 'badrules', async (sb) => {
      const bad = '*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -j KUBE-DOES-NOT-EXIST\nCOMMIT\n';
      await assert.rejects(sb.exec(sb.nodeNetns(), ['iptables-restore', '--noflush'], { stdin: bad }), (err: unknown) => {
        assert.ok(isExecError(err), String(err));
        assert.equal(err.code, 'E_EXEC');
        assert.ok(err.details.failingLine !== null, `a line is named in: ${err.details.stderr}`);
        assert.ok([3, 4].includes(err.details.failingLine.lineNumber), err.details.stderr);
        return true;
      });
    });
  });
});
