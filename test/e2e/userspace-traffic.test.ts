/**
 * The userspace proxy under load on the real kernel (issue 5): an endpoint killed mid-test, a
 * slow client, a 100 MB transfer, 200 connections open at once. One sandbox node, the daemon in
 * it in userspace mode, traffic from the node's client pod to the ClusterIP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LoadJob, LoadResult } from '../../bench/modes/load-client.js';
import { inNetns, startDaemon, waitFor, type DaemonHandle } from '../../src/runtime/daemon-process.js';
import { createSandbox, type Sandbox } from '../../src/runtime/sandbox/index.js';
import { kernelSkip, objectsFromYaml, tempStateRoot } from '../helpers/e2e.js';

const LOAD_CLIENT = fileURLToPath(new URL('../../bench/modes/load-client.js', import.meta.url));
const CLEANUP_MODULE = new URL('../../src/daemon/userspace-cleanup.js', import.meta.url).href;
const TOOL_MODULE = new URL('../../src/runtime/iptables/tool.js', import.meta.url).href;

const MANIFESTS = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 3
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
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;

async function load(sb: Sandbox, job: LoadJob): Promise<LoadResult> {
  const r = await sb.exec(sb.clientNetns(), [process.execPath, LOAD_CLIENT, JSON.stringify(job)], { timeoutMs: 120_000 });
  return JSON.parse(r.stdout) as LoadResult;
}

/** The pid of the proxy daemon inside the node's namespace (the process holding its listeners). */
async function proxyPid(netns: string): Promise<number> {
  const pids = (await inNetns(netns, ['ip', 'netns', 'pids', netns])).split('\n').map(Number).filter((n) => n > 0);
  for (const pid of pids) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes('main.js') && cmd.includes('run')) return pid;
    } catch {
      // gone
    }
  }
  throw new Error(`no proxy process in ${netns} (pids ${pids.join(', ')})`);
}

/** The daemon's log lines about failed dials to endpoints (the most recent `max`). */
function dialFailureLog(daemon: DaemonHandle | null, max = 60): string[] {
  const lines = (daemon?.logs() ?? '').split('\n').filter((l) => /dial failed|failed to connect to an endpoint|proxying failed/.test(l));
  return lines.slice(-max);
}

/** Runs `body`; if it fails, the error also carries the proxy's dial-failure log. */
async function withDialLog(daemon: DaemonHandle | null, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    const lines = dialFailureLog(daemon);
    const log = lines.length === 0 ? '(the proxy logged no failed dial)' : lines.join('\n');
    throw new Error(`${err instanceof Error ? err.message : String(err)}\nthe proxy's dial failures (latest ${lines.length}):\n${log}`, { cause: err });
  }
}

function rssMB(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb ?? 0) / 1024;
}

describe('userspace proxy under load', { skip: kernelSkip(['ip', 'iptables', 'iptables-restore', 'curl']) }, () => {
  let sb: Sandbox | null = null;
  let daemon: DaemonHandle | null = null;
  let removeRoot: (() => Promise<void>) | null = null;
  let vip = '';

  before(async () => {
    const root = await tempStateRoot();
    removeRoot = root.remove;
    sb = await createSandbox(objectsFromYaml(MANIFESTS, 'userspace-load.yaml'), { name: 'e2e-userspace-load', nodes: 1, stateRoot: root.root });
    const node = sb.node();
    const d = startDaemon(node.netns, [
      '--proxy-mode', 'userspace', '-f', sb.manifestsDir, '--hostname-override', node.name, '--node-ip', node.address,
      '--cluster-cidr', '172.18.0.0/16', '--ip-families', 'ipv4', '--iptables-min-sync-period', '100ms',
    ]);
    daemon = d;
    vip = sb.service('web').clusterIP;
    const s = sb;
    await waitFor('the userspace proxy to serve the ClusterIP', async () => {
      if (d.child.exitCode !== null) throw new Error(`kproxy run exited:\n${d.logs()}`);
      const r = await s.httpRequests(s.clientNetns(), vip, 80, { count: 3, timeoutMs: 500 });
      return r.answered === 3;
    }, 60_000, 200);
  });

  after(async () => {
    const code = await daemon?.stop();
    if (code !== undefined && code !== 0) process.stderr.write(`kproxy run exited with ${String(code)}:\n${daemon?.logs() ?? ''}\n`);
    await sb?.down();
    await removeRoot?.();
  });

  test('a 100 MB transfer arrives whole', async () => {
    assert.ok(sb !== null);
    const r = await load(sb, { kind: 'bulk', ip: vip, port: 80, connections: 1, bytes: 100 * 1024 * 1024 });
    assert.equal(r.errors, 0, JSON.stringify(r.errorKinds));
    assert.equal(r.bytes, 100 * 1024 * 1024);
  });

  test('200 connections open at once all get their answer, from every pod', async () => {
    assert.ok(sb !== null);
    const r = await load(sb, { kind: 'hold', ip: vip, port: 80, connections: 200, holdMs: 1500, timeoutMs: 15_000 });
    assert.equal(r.errors, 0, JSON.stringify(r.errorKinds));
    assert.equal(r.requests, 200);
    assert.deepEqual(Object.keys(r.byPod).sort(), sb.pods.map((p) => p.name).sort());
    // Held 1.5 s each: served one after another they would take minutes; together, about 1.5 s.
    assert.ok(r.durationMs < 6000, `all 200 were open together (${r.durationMs} ms)`);
  });

  test('a slow client: the proxy does not buffer what the client has not read', async () => {
    assert.ok(sb !== null);
    const pid = await proxyPid(sb.node().netns);
    const before = rssMB(pid);
    // curl reads 100 MB at 2 MB/s and gives up after 3 s; the pod could send it all in well under a second.
    const reading = sb.exec(sb.clientNetns(), [
      'curl', '-s', '-o', '/dev/null', '--limit-rate', '2M', '--max-time', '3', '-w', '%{size_download}', `http://${vip}/bytes/${100 * 1024 * 1024}`,
    ], { allowFailure: true, timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 2500));
    const during = rssMB(pid);
    const done = await reading;
    const downloaded = Number(done.stdout.trim());
    assert.ok(downloaded > 1e6 && downloaded < 20e6, `curl was reading slowly (${downloaded} bytes)`);
    assert.ok(during - before < 40, `the proxy's memory grew by ${(during - before).toFixed(1)} MB, not by the 100 MB the pod had to send`);
  });

  test('an endpoint killed mid-test: connections move to the others, at most the ones in flight fail', async (t) => {
    assert.ok(sb !== null);
    const s = sb;
    const victim = s.pods[0];
    assert.ok(victim !== undefined);
    const victimPid = victim.pid;
    assert.ok(victimPid !== null, 'the pod server runs');
    await withDialLog(daemon, async () => {
      const running = load(s, { kind: 'requests', ip: vip, port: 80, connections: 4, durationMs: 3000, keepAlive: false });
      await new Promise((r) => setTimeout(r, 1000));
      process.kill(victimPid, 'SIGKILL');
      const during = await running;
      assert.ok(during.requests > 100, `traffic flowed (${during.requests} requests)`);
      assert.ok(during.errors <= 4, `only requests in flight may fail: ${JSON.stringify(during.errorKinds)}`);
      assert.ok((during.byPod[victim.name] ?? 0) > 0, 'the victim served before it died');
      // Its endpoint is still published as ready: the proxy's dial fails over to the next pod.
      const afterKill = await load(s, { kind: 'requests', ip: vip, port: 80, connections: 4, durationMs: 1000, keepAlive: false });
      assert.equal(afterKill.errors, 0, JSON.stringify(afterKill.errorKinds));
      assert.equal(afterKill.byPod[victim.name] ?? 0, 0);
      assert.deepEqual(Object.keys(afterKill.byPod).sort(), s.pods.filter((p) => p.name !== victim.name).map((p) => p.name).sort());
      t.diagnostic(`requests: ${during.requests} during the kill, ${afterKill.requests} after; dial failures logged: ${dialFailureLog(daemon, Infinity).length}`);
    });
  });

  test('in the node: portals first and node ports last in the built-in chains; cleanup removes every rule', async () => {
    assert.ok(sb !== null && daemon !== null);
    const netns = sb.node().netns;
    const nat = await inNetns(netns, ['iptables', '-t', 'nat', '-S']);
    const chainRules = (chain: string): string[] => nat.split('\n').filter((l) => l.startsWith(`-A ${chain} `));
    assert.match(chainRules('PREROUTING')[0] ?? '', /-j KUBE-PORTALS-CONTAINER$/);
    assert.match(chainRules('PREROUTING').at(-1) ?? '', /-j KUBE-NODEPORT-CONTAINER$/);
    assert.match(chainRules('OUTPUT')[0] ?? '', /-j KUBE-PORTALS-HOST$/);
    assert.ok(chainRules('KUBE-PORTALS-CONTAINER').some((l) => l.includes(`-d ${vip}/32`) && l.includes('-j REDIRECT --to-ports')));
    assert.equal(await daemon.stop(), 0);
    const script = `const { cleanupUserspace } = await import(${JSON.stringify(CLEANUP_MODULE)});
      const { IptablesTool } = await import(${JSON.stringify(TOOL_MODULE)});
      process.stdout.write(JSON.stringify(await cleanupUserspace(new IptablesTool('IPv4'))));`;
    const report = JSON.parse(await inNetns(netns, [process.execPath, '--input-type=module', '-e', script])) as { deletedChains: number };
    assert.equal(report.deletedChains, 5);
    const saved = await inNetns(netns, ['iptables-save']);
    assert.deepEqual(saved.split('\n').filter((l) => l.includes('KUBE-')), [], 'no KUBE- rule or chain is left');
  });
});
