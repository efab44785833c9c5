/**
 * Options about this node, settled as kube-proxy settles them: --hostname-override (spaces only
 * is an error, not "unset"), `--nodeport-addresses primary` without a known node IP (loopback,
 * said out loud), and diagnostics about options located at the option (`flags: --flag` or the
 * config file's field), not at a made-up document.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { parseKubeProxyConfiguration } from '../../src/cli/options/kube-proxy-config.js';
import { proxyConfigFromOptions } from '../../src/cli/options/proxy-options.js';
import { buildDesiredState } from '../../src/core/desired/build.js';
import { isKproxyError } from '../../src/core/errors.js';
import { DEFAULT_PROXY_CONFIG, type ProxyConfig } from '../../src/core/model/config.js';
import { DiagnosticSink, formatDiagnostic } from '../../src/core/model/diagnostics.js';
import { EMPTY_CLUSTER, type ClusterObjects } from '../../src/core/model/objects.js';
import { endpoint, node, port, service, slice } from '../helpers/objects.js';

const HEAD = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n';

test('--hostname-override with spaces only is a usage error; empty means unset; the value is trimmed and lower-cased', () => {
  for (const blank of [' ', '   ', '\t']) {
    assert.throws(
      () => proxyConfigFromOptions({ hostnameOverride: blank }),
      (err: unknown) => isKproxyError(err) && err.code === 'E_USAGE' && /--hostname-override: must not be empty/.test(err.message),
      JSON.stringify(blank),
    );
  }
  assert.equal(proxyConfigFromOptions({ hostnameOverride: '' }).config.nodeName, hostname().trim().toLowerCase());
  assert.equal(proxyConfigFromOptions({ hostnameOverride: ' Node-A ' }).config.nodeName, 'node-a');
});

test('with --config, a non-empty --hostname-override wins; the file\'s blank hostnameOverride is an error only without it', () => {
  const file = parseKubeProxyConfiguration(`${HEAD}hostnameOverride: "  "\n`, 'kp.yaml');
  assert.equal(proxyConfigFromOptions({ hostnameOverride: 'Worker-2' }, file).config.nodeName, 'worker-2');
  assert.throws(
    () => proxyConfigFromOptions({}, file),
    (err: unknown) => isKproxyError(err) && err.code === 'E_CONFIG' && /^kp\.yaml: hostnameOverride: must not be empty/.test(err.message),
  );
  assert.throws(() => proxyConfigFromOptions({ hostnameOverride: ' ' }, file), /--hostname-override: must not be empty/);
});

const nodePortService: Partial<ClusterObjects> = {
  services: [service('default', 'web', { type: 'NodePort', clusterIP: '10.96.0.10', ports: [port({ port: 80, nodePort: 30080 })] })],
  endpointSlices: [slice('default', 'web-1', 'web', { endpoints: [endpoint('10.244.0.5')] })],
};

function build(objects: Partial<ClusterObjects>, config: Partial<ProxyConfig>): { state: ReturnType<typeof buildDesiredState>; lines: string[] } {
  const sink = new DiagnosticSink();
  const state = buildDesiredState({ ...EMPTY_CLUSTER, ...objects }, { ...DEFAULT_PROXY_CONFIG, nodeName: 'node-1', ...config }, 'IPv4', sink);
  return { state, lines: sink.all.map(formatDiagnostic) };
}

test('--nodeport-addresses primary without a known node IP: loopback only, as kube-proxy assumes, with a warning at the flag', () => {
  const { state, lines } = build(nodePortService, { nodePortAddresses: ['primary'] });
  assert.deepEqual(state.nodePortAddresses, { kind: 'ips', ips: ['127.0.0.1'] }, 'not "all addresses"');
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? '', /^flags: --nodeport-addresses: warning: primary: this node's IPv4 address is unknown .*127\.0\.0\.1 only/);

  const known = build({ ...nodePortService, nodes: [node('node-1', ['192.168.0.2'])] }, { nodePortAddresses: ['primary'] });
  assert.deepEqual(known.state.nodePortAddresses, { kind: 'ips', ips: ['192.168.0.2'] });
  assert.deepEqual(known.lines, []);
  const byFlag = build(nodePortService, { nodePortAddresses: ['primary'], nodeIPs: ['10.0.0.9'] });
  assert.deepEqual(byFlag.state.nodePortAddresses, { kind: 'ips', ips: ['10.0.0.9'] });
  assert.deepEqual(byFlag.lines, []);
});

test('a diagnostic about an option from a config file names the file and the field', () => {
  const origin = { kind: 'file', path: '/var/lib/kproxy/config.conf' } as const;
  const { lines } = build(nodePortService, { nodePortAddresses: ['primary'], origin });
  assert.match(lines[0] ?? '', /^\/var\/lib\/kproxy\/config\.conf: nodePortAddresses: warning: primary: /);
  const file = parseKubeProxyConfiguration(`${HEAD}nodePortAddresses: [primary]\n`, 'kp.yaml');
  assert.deepEqual(proxyConfigFromOptions({ hostnameOverride: 'node-1' }, file).config.origin, { kind: 'file', path: 'kp.yaml' });
});

test('NodeCIDR without a Node object: the warning is about the option, not a made-up document', () => {
  const { state, lines } = build(nodePortService, { detectLocalMode: 'NodeCIDR' });
  assert.equal(state.localDetector, null);
  assert.deepEqual(lines, [
    'flags: --detect-local-mode: warning: NodeCIDR: no Node object named "node-1" was given, so no IPv4 traffic is detected as local (give the Node, with its spec.podCIDRs)',
  ]);
  // A Node without a pod CIDR is a problem of that object: located at its document.
  const withNode = build({ ...nodePortService, nodes: [node('node-1', ['192.168.0.2'])] }, { detectLocalMode: 'NodeCIDR' });
  assert.match(withNode.lines[0] ?? '', /^test:document 1: Node node-1: spec\.podCIDRs: warning: /);
});
