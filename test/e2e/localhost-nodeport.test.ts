/**
 * Localhost NodePorts on the real kernel: `curl 127.0.0.1:NODEPORT` on the node reaches the
 * service in iptables mode (kproxy sets route_localnet=1 in the node's namespace, as kube-proxy
 * does) and not when --iptables-localhost-nodeports=false; userspace mode redirects to its
 * listener, which needs no sysctl.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLI_MAIN, inNetns, startDaemon, waitFor, type DaemonHandle } from '../../src/runtime/daemon-process.js';
import { createSandbox, type Sandbox, type TrafficResult } from '../../src/runtime/sandbox/index.js';
import { kernelSkip, objectsFromYaml, tempStateRoot } from '../helpers/e2e.js';

const MANIFESTS = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: server, image: kproxy/pod-server, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, nodePort: 30123}]
`;

const ROUTE_LOCALNET = ['cat', '/proc/sys/net/ipv4/conf/all/route_localnet'];

describe('localhost NodePorts', { skip: kernelSkip(['ip', 'iptables', 'iptables-restore', 'curl']) }, () => {
  let sb: Sandbox | null = null;
  let daemon: DaemonHandle | null = null;
  let removeRoot: (() => Promise<void>) | null = null;

  before(async () => {
    const root = await tempStateRoot();
    removeRoot = root.remove;
    sb = await createSandbox(objectsFromYaml(MANIFESTS, 'localhost-nodeport.yaml'), { name: 'e2e-localhost-np', nodes: 1, stateRoot: root.root });
  });

  after(async () => {
    await daemon?.stop();
    await sb?.down();
    await removeRoot?.();
  });

  /** Starts the daemon in the node (stopping the previous one) and waits for the NodePort to answer from outside. */
  async function run(mode: string, extra: readonly string[]): Promise<Sandbox> {
    assert.ok(sb !== null);
    const s = sb;
    await daemon?.stop();
    // What the previous run programmed goes first, as an operator switching modes would do.
    await inNetns(s.node().netns, [process.execPath, CLI_MAIN, 'cleanup']);
    const node = s.node();
    const d = startDaemon(node.netns, [
      '--proxy-mode', mode, '-f', s.manifestsDir, '--hostname-override', node.name, '--node-ip', node.address,
      '--cluster-cidr', '172.18.0.0/16', '--ip-families', 'ipv4', '--iptables-min-sync-period', '100ms', ...extra,
    ]);
    daemon = d;
    await waitFor(`the ${mode} daemon to serve the NodePort from outside`, async () => {
      if (d.child.exitCode !== null) throw new Error(`kproxy run exited:\n${d.logs()}`);
      const r = await s.httpRequests(s.externalNetns, node.address, 30123, { count: 2, timeoutMs: 500 });
      return r.answered === 2;
    }, 60_000, 200);
    return s;
  }

  const fromLoopback = (s: Sandbox, count: number): Promise<TrafficResult> =>
    s.httpRequests(s.node().netns, '127.0.0.1', 30123, { count, timeoutMs: 1000, concurrency: Math.min(count, 2) });

  // First, while the node's namespace still has the kernel's default route_localnet=0.
  test('--iptables-localhost-nodeports=false: the sysctl is left alone and 127.0.0.1 gets no answer', async () => {
    const s = await run('iptables', ['--iptables-localhost-nodeports=false']);
    assert.equal((await inNetns(s.node().netns, ROUTE_LOCALNET)).trim(), '0');
    const r = await fromLoopback(s, 1);
    assert.equal(r.answered, 0, JSON.stringify(r));
  });

  test('iptables mode: 127.0.0.1:NODEPORT on the node reaches the pods; route_localnet is set in the node', async () => {
    const s = await run('iptables', []);
    assert.equal((await inNetns(s.node().netns, ROUTE_LOCALNET)).trim(), '1');
    const r = await fromLoopback(s, 6);
    assert.equal(r.answered, 6, JSON.stringify(r));
    assert.ok(Object.keys(r.byPod).length > 0 && Object.keys(r.byPod).every((p) => p.startsWith('web-')), JSON.stringify(r.byPod));
  });

  test('userspace mode: 127.0.0.1:NODEPORT on the node reaches the pods through the proxy', async () => {
    const s = await run('userspace', []);
    const r = await fromLoopback(s, 6);
    assert.equal(r.answered, 6, JSON.stringify(r));
  });
});
