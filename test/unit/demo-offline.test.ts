/**
 * `kproxy demo` where it cannot run (no root, tools missing): it shows what the chosen mode would
 * program for the sandbox it would build. Tests run as root, so the non-root path is driven
 * through demoCommand's IO seam (a blocker list given by the test).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoCommand, loadDemoObjects, type DemoIO } from '../../src/cli/commands/demo.js';
import { offlineDemo } from '../../src/cli/demo/offline.js';
import { isKproxyError } from '../../src/core/errors.js';
import { DiagnosticSink } from '../../src/core/model/diagnostics.js';
import type { ClusterObjects } from '../../src/core/model/objects.js';

async function demoObjects(): Promise<ClusterObjects> {
  return loadDemoObjects([], new DiagnosticSink());
}

test('userspace mode offline: the proxy listeners and the portal rules, not the iptables mode chains', async () => {
  const { what, text } = offlineDemo(await demoObjects(), 'userspace');
  assert.match(what, /listeners/);
  const listeners = text.split('\n').filter((l) => /^#\s+\d+\/tcp /.test(l));
  assert.equal(listeners.length, 2, 'one listener per service port (nginx, nginx-nodeport)');
  assert.match(listeners.join('\n'), /default\/nginx \[internal\] balanced -> 172\.18\.0\.5:80 172\.18\.0\.6:80 172\.18\.0\.7:80/);
  const port = /^#\s+(\d+)\/tcp\s+default\/nginx /m.exec(text)?.[1];
  assert.ok(port !== undefined);
  assert.match(text, new RegExp(`^-A KUBE-PORTALS-CONTAINER .*-d 172\\.18\\.255\\.127/32 -j REDIRECT --to-ports ${port}$`, 'm'));
  assert.match(text, /^-A KUBE-PORTALS-HOST .*-d 172\.18\.255\.127\/32 -j DNAT --to-destination [\d.]+:\d+$/m);
  assert.match(text, /^-A KUBE-NODEPORT-CONTAINER .*--dport 30080 -j REDIRECT/m);
  assert.doesNotMatch(text, /KUBE-SVC-|KUBE-SEP-/);
});

test('iptables mode offline: the iptables mode chains, not the portals', async () => {
  const { text } = offlineDemo(await demoObjects(), 'iptables');
  assert.match(text, /^-A KUBE-SERVICES .*-d 172\.18\.255\.127 --dport 80 -j KUBE-SVC-/m);
  assert.equal(text.match(/^-A KUBE-SEP-\w+ .*-j DNAT/gm)?.length, 6, 'three endpoints for each of the two services');
  assert.doesNotMatch(text, /KUBE-PORTALS/);
});

function capture(blockers: string[]): { io: DemoIO; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { blockers: () => blockers, stdout: (t) => out.push(t), stderr: (t) => err.push(t) }, out, err };
}

test('demo without root prints what the chosen mode would program, says what is missing, exits 1', async () => {
  const objects = await demoObjects();
  for (const mode of ['userspace', 'iptables'] as const) {
    const c = capture(['root (network namespaces and iptables need it)']);
    const status = await demoCommand({ mode, requests: '300' }, c.io);
    assert.equal(status, 1);
    assert.equal(c.out.join(''), offlineDemo(objects, mode).text);
    assert.match(c.err.join(''), /kproxy demo needs root/);
    assert.match(c.err.join(''), new RegExp(`in ${mode} mode`));
  }
  const viaProxyMode = capture(['root']);
  await demoCommand({ mode: 'iptables', proxyMode: 'userspace', requests: '300' }, viaProxyMode.io);
  assert.match(viaProxyMode.out.join(''), /KUBE-PORTALS-CONTAINER/, '--proxy-mode (kube-proxy\'s name) is honoured too');
});

test('demo in a mode it cannot run is an error, also without root', async () => {
  const c = capture(['root']);
  await assert.rejects(demoCommand({ mode: 'nftables', requests: '300' }, c.io), (err: unknown) => isKproxyError(err) && err.code === 'E_UNSUPPORTED' && /nftables/.test(err.message));
  assert.deepEqual(c.out, []);
});

test('demo --json without root prints JSON only: the mode, what is missing, the rules; exit 1', async () => {
  const objects = await demoObjects();
  const c = capture(['root (network namespaces and iptables need it)']);
  const status = await demoCommand({ mode: 'iptables', requests: '300', json: true }, c.io);
  assert.equal(status, 1);
  assert.deepEqual(c.err, [], 'nothing but JSON, and nothing on stderr either');
  const parsed = JSON.parse(c.out.join('')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed), ['mode', 'error', 'rules']);
  assert.equal(parsed['mode'], 'iptables');
  assert.equal(parsed['error'], 'needs root (network namespaces and iptables need it)');
  assert.equal(parsed['rules'], offlineDemo(objects, 'iptables').text);
});
