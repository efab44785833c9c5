/**
 * Userspace mode with two IP families on a host that has no IPv6 address outside loopback: the
 * IPv6 family still syncs (portals for pods and outside clients), only the rules for the node's
 * own traffic, which DNAT to the node's address, are left out, with one warning.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCommand } from '../../src/runtime/exec/run.js';
import { inNetns, startDaemon, waitFor, type DaemonHandle } from '../../src/runtime/daemon-process.js';
import { kernelSkip } from '../helpers/e2e.js';

const NS = `kpx-us6-${randomBytes(3).toString('hex')}`;

const MANIFEST = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  clusterIP: 172.18.255.10
  ports: [{port: 80, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: web6, namespace: default}
spec:
  clusterIP: fd00:10::10
  ipFamilies: [IPv6]
  ports: [{port: 80, protocol: TCP}]
`;

describe('userspace mode, IPv6 on a host without an IPv6 address', { skip: kernelSkip(['ip', 'iptables', 'ip6tables', 'ip6tables-restore']) }, () => {
  let dir = '';
  let daemon: DaemonHandle | null = null;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kproxy-us6-'));
    await writeFile(path.join(dir, 'objects.yaml'), MANIFEST);
    await runCommand(['ip', 'netns', 'add', NS]);
    await runCommand(['ip', '-n', NS, 'link', 'set', 'lo', 'up']);
  });

  after(async () => {
    await daemon?.stop();
    await runCommand(['ip', 'netns', 'del', NS], { allowFailure: true });
    await rm(dir, { recursive: true, force: true });
  });

  test('the IPv6 portals are programmed; the node-traffic rules are left out with a warning', async () => {
    const d = startDaemon(NS, [
      '--proxy-mode', 'userspace', '-f', dir, '--hostname-override', 'node-1', '--node-ip', '198.51.100.2',
      '--ip-families', 'ipv4,ipv6', '--iptables-min-sync-period', '100ms', '--healthz-bind-address', '127.0.0.1:10256',
    ]);
    daemon = d;
    const save6 = (): Promise<string> => inNetns(NS, ['ip6tables-save', '-t', 'nat']);
    await waitFor('the IPv6 portal rules', async () => {
      if (d.child.exitCode !== null) throw new Error(`kproxy run exited:\n${d.logs()}`);
      return (await save6()).includes('fd00:10::10');
    }, 60_000);
    const nat6 = await save6();
    assert.match(nat6, /-A KUBE-PORTALS-CONTAINER -d fd00:10::10\/128 .*-j REDIRECT/);
    assert.doesNotMatch(nat6, /-A KUBE-PORTALS-HOST /, 'no rule DNATs the node\'s own traffic to an address it does not have');
    assert.match(await inNetns(NS, ['iptables-save', '-t', 'nat']), /-A KUBE-PORTALS-HOST -d 172\.18\.255\.10\/32 .*-j DNAT --to-destination 198\.51\.100\.2:/);
    await waitFor('the warning', () => /node's own traffic to these services is not proxied.*family=IPv6/.test(d.logs()));
    assert.equal(d.logs().match(/node's own traffic to these services is not proxied/g)?.length, 1, 'warned once');
    assert.doesNotMatch(d.logs(), /sync failed/);
  });
});
