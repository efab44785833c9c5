/**
 * `kproxy run` against a real kernel, in a bare network namespace of its own: first full sync,
 * partial syncs that follow file changes and delete stale chains, a failed apply that is
 * retried as a full sync, health and metrics, SIGTERM leaving the rules, `kproxy cleanup`.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, rename } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCommand } from '../../src/runtime/exec/run.js';
import { kernelSkip } from '../helpers/e2e.js';
import { CLI_MAIN, inNetns, startDaemon, waitFor, type DaemonHandle } from '../../src/runtime/daemon-process.js';

// Unique even when an earlier run that had this pid was killed before removing its namespace.
const NS = `kpx-dmn${process.pid}-${randomBytes(3).toString('hex')}`;

function manifest(ips: readonly string[]): string {
  return `apiVersion: v1
kind: Service
metadata: {name: nginx, namespace: default}
spec:
  clusterIP: 172.18.255.127
  ports: [{port: 80, protocol: TCP, targetPort: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: nginx-1
  namespace: default
  labels: {kubernetes.io/service-name: nginx}
  annotations: {endpoints.kubernetes.io/last-change-trigger-time: "${new Date().toISOString()}"}
addressType: IPv4
ports: [{name: "", port: 80, protocol: TCP}]
endpoints:
${ips.map((ip) => `- {addresses: [${ip}], conditions: {ready: true}, nodeName: node-1}`).join('\n')}
`;
}

describe('kproxy run (iptables mode) on the real kernel', { skip: kernelSkip(['ip', 'iptables', 'iptables-restore', 'curl']) }, () => {
  let dir = '';
  let file = '';
  let daemon: DaemonHandle | null = null;
  const save = (): Promise<string> => inNetns(NS, ['iptables-save']);
  const write = async (text: string): Promise<void> => {
    await writeFile(`${file}.tmp`, text);
    await rename(`${file}.tmp`, file);
  };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kproxy-daemon-'));
    file = path.join(dir, 'objects.yaml');
    await write(manifest(['172.18.0.5', '172.18.0.6', '172.18.0.7']));
    await runCommand(['ip', 'netns', 'add', NS]);
    await runCommand(['ip', '-n', NS, 'link', 'set', 'lo', 'up']);
  });

  after(async () => {
    await daemon?.stop();
    await runCommand(['ip', 'netns', 'del', NS], { allowFailure: true });
    await rm(dir, { recursive: true, force: true });
  });

  test('setup: a userspace-mode proxy ran here before and left its portal jump', async () => {
    // A userspace proxy ran here before: its portal jump would catch ClusterIP traffic first.
    await inNetns(NS, ['iptables', '-t', 'nat', '-N', 'KUBE-PORTALS-CONTAINER']);
    await inNetns(NS, [
      'iptables', '-t', 'nat', '-I', 'PREROUTING', '-m', 'comment', '--comment',
      'handle ClusterIPs; NOTE: this must be before the NodePort rules', '-j', 'KUBE-PORTALS-CONTAINER',
    ]);
    assert.match(await save(), /KUBE-PORTALS-CONTAINER/);
  });

  test('the first sync is full: service chains and the jumps from the built-in chains; the userspace leftovers are gone', async () => {
    daemon = startDaemon(NS, [
      '-f', file, '--hostname-override', 'node-1', '--ip-families', 'ipv4',
      '--iptables-min-sync-period', '100ms', '--iptables-sync-period', '2s',
      '--healthz-bind-address', '127.0.0.1:10256',
    ]);
    // Starting takes a few seconds (two node processes, capability probes, the first restore), more
    // on a loaded machine: the bound is for a daemon that never syncs, not for a slow one.
    await waitFor('the first sync', async () => (await save()).includes('KUBE-SVC-2CMXP7HKUVJN7L6M'), 60_000);
    const text = await save();
    for (const sep of ['QLIJNPST3ICX5TJY', 'GLPL34GQHSYFHR3G', 'HI2F4S4VJRUG452O']) assert.match(text, new RegExp(`:KUBE-SEP-${sep} `));
    assert.match(text, /-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES/);
    assert.match(text, /-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING/);
    assert.match(text, /--probability 0\.33333333349/);
    // The daemon logs the sync just after the kernel has it: its line may still be on its way.
    const d = daemon;
    await waitFor('the first sync in the log', () => /synced proxy rules.*full=true/.test(d.logs()));
    assert.doesNotMatch(text, /KUBE-PORTALS-CONTAINER/, "the userspace mode's leftovers are gone");
  });

  test('health and metrics answer inside the namespace', async () => {
    const health = JSON.parse(await inNetns(NS, ['curl', '-s', '127.0.0.1:10256/healthz'])) as Record<string, unknown>;
    assert.equal(health['healthy'], true);
    const metrics = await inNetns(NS, ['curl', '-s', '127.0.0.1:10249/metrics']);
    assert.match(metrics, /kubeproxy_sync_proxy_rules_last_timestamp_seconds\{ip_family="IPv4"\} \d/);
    assert.equal(await inNetns(NS, ['curl', '-s', '127.0.0.1:10249/proxyMode']), 'iptables');
  });

  test('a file change is applied by a partial sync, and the stale endpoint chain is deleted', async () => {
    await write(manifest(['172.18.0.5', '172.18.0.6']));
    await waitFor('the endpoint chain of 172.18.0.7 to go', async () => !(await save()).includes('KUBE-SEP-HI2F4S4VJRUG452O'));
    const text = await save();
    assert.match(text, /KUBE-SVC-2CMXP7HKUVJN7L6M .*--probability 0\.50000000000 -j KUBE-SEP-QLIJNPST3ICX5TJY/);
    await waitFor('the partial sync in the log', () => /synced proxy rules.*full=false.*changedServices=1/.test(daemon?.logs() ?? ''));
  });

  test('metrics count the changes, the rules kproxy owns, and the programming latency', async () => {
    const metrics = await inNetns(NS, ['curl', '-s', '127.0.0.1:10249/metrics']);
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    assert.ok(value('kubeproxy_sync_proxy_rules_endpoint_changes_total') >= 2, 'the first slice and its change');
    assert.ok(value('kubeproxy_sync_proxy_rules_service_changes_total') >= 1);
    assert.equal(value('kubeproxy_sync_proxy_rules_endpoint_changes_pending'), 0);
    const ownedNatRules = (await inNetns(NS, ['iptables-save', '-t', 'nat'])).split('\n').filter((l) => l.startsWith('-A KUBE-')).length;
    assert.equal(value('kubeproxy_sync_proxy_rules_iptables_total\\{ip_family="IPv4",table="nat"\\}'), ownedNatRules, 'after a partial sync too');
    assert.ok(value('kubeproxy_network_programming_duration_seconds_count\\{ip_family="IPv4"\\}') >= 1, 'the trigger-time annotation was observed');
  });

  test('a failed apply names the failing line, counts a failure, and the retry is a full sync', async () => {
    // Something else references an endpoint chain that is about to become stale: `-X` fails.
    await inNetns(NS, ['iptables', '-t', 'nat', '-A', 'OUTPUT', '-d', '192.0.2.1', '-j', 'KUBE-SEP-GLPL34GQHSYFHR3G']);
    await write(manifest(['172.18.0.5']));
    await waitFor('a failed sync', () => /sync failed.*KUBE-SEP-GLPL34GQHSYFHR3G/.test(daemon?.logs() ?? ''));
    assert.match(daemon?.logs() ?? '', /failing input line \d+: -X KUBE-SEP-GLPL34GQHSYFHR3G/);
    const metrics = await inNetns(NS, ['curl', '-s', '127.0.0.1:10249/metrics']);
    assert.match(metrics, /kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total\{ip_family="IPv4"\} [1-9]/);
    // Marked before the reference goes: every sync fails until then, and a retry may succeed the
    // moment it is gone, before this process has read the daemon's log of it.
    const failedAt = (daemon?.logs() ?? '').length;
    await inNetns(NS, ['iptables', '-t', 'nat', '-D', 'OUTPUT', '-d', '192.0.2.1', '-j', 'KUBE-SEP-GLPL34GQHSYFHR3G']);
    await waitFor('a full sync after the failure', () => /synced proxy rules.*full=true/.test((daemon?.logs() ?? '').slice(failedAt)));
    assert.doesNotMatch(await save(), /KUBE-SEP-GLPL34GQHSYFHR3G/);
  });

  test('SIGTERM stops the daemon and leaves the rules; cleanup removes them', async () => {
    const code = await daemon?.stop();
    daemon = null;
    assert.equal(code, 0);
    assert.match(await save(), /KUBE-SVC-2CMXP7HKUVJN7L6M/);
    await runCommand([process.execPath, CLI_MAIN, 'cleanup', '--netns', NS]);
    const text = await save();
    assert.doesNotMatch(text, /KUBE-(SVC|SEP|SERVICES|NODEPORTS|POSTROUTING|MARK-MASQ|FORWARD|EXTERNAL)/);
  });
});
