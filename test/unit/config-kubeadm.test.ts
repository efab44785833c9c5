/**
 * `--config` with the config.conf kubeadm writes for kube-proxy: kubeadm sets bindAddress,
 * clusterCIDR and clientConnection.kubeconfig and marshals every other field as its Go zero
 * value (null, 0, 0s, ""). kube-proxy defaults that object before validating it, so the file
 * means kube-proxy's defaults. The fixtures are verbatim kubeadm output (a current kubeadm, and
 * one from before 1.26 with udpIdleTimeout); the expected object is kube-proxy's defaulted
 * v1alpha1 object (reference C.2).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { v1alpha1Yaml } from '../../src/cli/options/effective-config.js';
import { parseKubeProxyConfiguration } from '../../src/cli/options/kube-proxy-config.js';
import { operationalFromOptions } from '../../src/cli/options/operational.js';
import { proxyConfigFromOptions } from '../../src/cli/options/proxy-options.js';
import { isKproxyError } from '../../src/core/errors.js';
import { repoPath } from '../helpers/paths.js';

const KUBEADM = 'test/fixtures/config/kubeadm-v1.31.config.conf';
const KUBEADM_OLD = 'test/fixtures/config/kubeadm-v1.25.config.conf';
const HEAD = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n';

function load(path: string, replace: readonly [string, string][] = []): ReturnType<typeof parseKubeProxyConfiguration> {
  let text = readFileSync(repoPath(path), 'utf8');
  for (const [from, to] of replace) {
    assert.ok(text.includes(from), `the fixture has ${from}`);
    text = text.replace(from, to);
  }
  return parseKubeProxyConfiguration(text, path);
}

/** As the DaemonSet runs it: `--config FILE --hostname-override=$(NODE_NAME)` (null: without the flag). */
function resolve(file: ReturnType<typeof parseKubeProxyConfiguration>, hostnameFlag: string | null = 'node-1'): {
  proxy: ReturnType<typeof proxyConfigFromOptions>;
  op: ReturnType<typeof operationalFromOptions>['settings'];
} {
  const proxy = proxyConfigFromOptions(hostnameFlag === null ? {} : { hostnameOverride: hostnameFlag }, file);
  return { proxy, op: operationalFromOptions({}, proxy.config, file).settings };
}

/** kube-proxy's defaulted v1alpha1 object (reference C.2), with what kubeadm fills in. */
const DEFAULTED: Record<string, unknown> = {
  apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
  kind: 'KubeProxyConfiguration',
  bindAddress: '0.0.0.0',
  bindAddressHardFail: false,
  clientConnection: { acceptContentTypes: '', burst: 10, contentType: 'application/vnd.kubernetes.protobuf', kubeconfig: '/var/lib/kube-proxy/kubeconfig.conf', qps: 5 },
  clusterCIDR: '10.244.0.0/16',
  configSyncPeriod: '15m0s',
  conntrack: {
    maxPerCore: 32768, min: 131072, tcpBeLiberal: false, tcpCloseWaitTimeout: '1h0m0s',
    tcpEstablishedTimeout: '24h0m0s', udpStreamTimeout: '0s', udpTimeout: '0s',
  },
  detectLocal: { bridgeInterface: '', interfaceNamePrefix: '' },
  detectLocalMode: 'ClusterCIDR',
  enableProfiling: false,
  healthzBindAddress: '0.0.0.0:10256',
  hostnameOverride: 'node-1',
  iptables: { localhostNodePorts: true, masqueradeAll: false, masqueradeBit: 14, minSyncPeriod: '1s', syncPeriod: '30s' },
  ipvs: {
    excludeCIDRs: null, ipSet: { hashSize: 1024, maxElements: 65536 }, minSyncPeriod: '0s', scheduler: '',
    strictARP: false, syncPeriod: '0s', tcpFinTimeout: '0s', tcpTimeout: '0s', udpTimeout: '0s',
  },
  logging: { flushFrequency: '5s', format: 'text', verbosity: 0 },
  metricsBindAddress: '127.0.0.1:10249',
  mode: 'iptables',
  nftables: { masqueradeAll: false, masqueradeBit: 14, minSyncPeriod: '0s', syncPeriod: '0s' },
  nodePortAddresses: null,
  oomScoreAdj: -999,
  portRange: '',
  showHiddenMetricsForVersion: '',
};

test('kubeadm\'s config.conf, verbatim, loads without a warning and means kube-proxy\'s defaults', () => {
  for (const path of [KUBEADM, KUBEADM_OLD]) {
    const file = load(path);
    assert.deepEqual(file.warnings, [], path);
    const { proxy, op } = resolve(file);
    const written = parse(v1alpha1Yaml(proxy.config, op)) as Record<string, unknown>;
    const expected = path === KUBEADM_OLD ? { ...DEFAULTED, clusterCIDR: '192.168.0.0/16' } : DEFAULTED;
    assert.deepEqual(written, expected, path);
    assert.equal(proxy.config.nodeName, 'node-1');
    assert.equal(proxy.conntrackTCPBeLiberal, false);
  }
});

test('every zero or null field kubeadm writes gets kube-proxy\'s default', () => {
  const { proxy, op } = resolve(load(KUBEADM));
  const c = proxy.config;
  assert.equal(c.syncPeriodSeconds, 30, 'iptables.syncPeriod: 0s');
  assert.equal(c.minSyncPeriodSeconds, 1, 'iptables.minSyncPeriod: 0s');
  assert.equal(c.masqueradeBit, 14, 'iptables.masqueradeBit: null');
  assert.equal(c.localhostNodePorts, true, 'iptables.localhostNodePorts: null');
  assert.equal(c.healthzBindAddress, '0.0.0.0:10256', 'healthzBindAddress: ""');
  assert.equal(c.metricsBindAddress, '127.0.0.1:10249', 'metricsBindAddress: ""');
  assert.deepEqual(c.nodePortAddresses, [], 'nodePortAddresses: null');
  assert.equal(c.mode, 'iptables', 'mode: ""');
  assert.equal(c.detectLocalMode, 'ClusterCIDR', 'detectLocalMode: ""');
  assert.deepEqual(c.clusterCIDRs, ['10.244.0.0/16']);
  assert.equal(op.configSyncPeriodSeconds, 900, 'configSyncPeriod: 0s');
  assert.equal(op.qps, 5, 'clientConnection.qps: 0');
  assert.equal(op.burst, 10, 'clientConnection.burst: 0');
  assert.equal(op.contentType, 'application/vnd.kubernetes.protobuf', 'clientConnection.contentType: ""');
  assert.equal(op.kubeconfig, '/var/lib/kube-proxy/kubeconfig.conf');
  assert.equal(op.oomScoreAdj, -999, 'oomScoreAdj: null');
  assert.equal(op.conntrack.maxPerCore, 32768, 'conntrack.maxPerCore: null');
  assert.equal(op.conntrack.min, 131072, 'conntrack.min: null');
  assert.equal(op.conntrack.tcpEstablishedTimeoutSeconds, 86400, 'conntrack.tcpEstablishedTimeout: null');
  assert.equal(op.conntrack.tcpCloseWaitTimeoutSeconds, 3600, 'conntrack.tcpCloseWaitTimeout: null');
  assert.equal(op.conntrack.udpTimeoutSeconds, 0, 'conntrack.udpTimeout: 0s stays 0 (leave as is)');
  assert.equal(op.bindAddress, '0.0.0.0');
  assert.equal(op.loggingFormat, 'text');
});

test('an explicit zero in a pointer field is kept; zero in a plain field is defaulted', () => {
  const file = parseKubeProxyConfiguration(
    HEAD +
      [
        'conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}',
        'iptables: {masqueradeBit: 0, localhostNodePorts: false, syncPeriod: 0s, minSyncPeriod: 0s}',
        'oomScoreAdj: 0',
        'clientConnection: {qps: 0, burst: 0}',
        '',
      ].join('\n'),
    'zeros.yaml',
  );
  const { proxy, op } = resolve(file);
  assert.equal(proxy.config.masqueradeBit, 0);
  assert.equal(proxy.config.localhostNodePorts, false);
  assert.equal(proxy.config.syncPeriodSeconds, 30);
  assert.equal(proxy.config.minSyncPeriodSeconds, 1);
  assert.deepEqual(
    [op.conntrack.maxPerCore, op.conntrack.min, op.conntrack.tcpEstablishedTimeoutSeconds, op.conntrack.tcpCloseWaitTimeoutSeconds, op.oomScoreAdj],
    [0, 0, 0, 0, 0],
  );
  assert.deepEqual([op.qps, op.burst], [5, 10]);
});

test('bind addresses: a bare IP gets the default port; an IPv6 bindAddress makes the defaults IPv6', () => {
  const fields = (body: string): ReturnType<typeof proxyConfigFromOptions>['config'] => resolve(parseKubeProxyConfiguration(HEAD + body, 'a.yaml')).proxy.config;
  const bare = fields('healthzBindAddress: 10.0.0.1\nmetricsBindAddress: "::1"\n');
  assert.equal(bare.healthzBindAddress, '10.0.0.1:10256');
  assert.equal(bare.metricsBindAddress, '[::1]:10249');
  const v6 = fields('bindAddress: "::"\nhealthzBindAddress: ""\nmetricsBindAddress: null\n');
  assert.equal(v6.healthzBindAddress, '[::]:10256');
  assert.equal(v6.metricsBindAddress, '[::1]:10249');
  const kept = fields('healthzBindAddress: 0.0.0.0:1234\nmetricsBindAddress: "[::1]:9999"\n');
  assert.deepEqual([kept.healthzBindAddress, kept.metricsBindAddress], ['0.0.0.0:1234', '[::1]:9999']);
});

test('the active mode\'s block is defaulted and used: nftables and ipvs', () => {
  const nft = resolve(load(KUBEADM, [['mode: ""', 'mode: nftables']])).proxy.config;
  assert.deepEqual([nft.mode, nft.syncPeriodSeconds, nft.minSyncPeriodSeconds, nft.masqueradeBit], ['nftables', 30, 1, 14]);
  const ipvs = resolve(load(KUBEADM, [['mode: ""', 'mode: ipvs']])).proxy.config;
  assert.deepEqual([ipvs.mode, ipvs.syncPeriodSeconds, ipvs.minSyncPeriodSeconds], ['ipvs', 30, 0], 'ipvs.minSyncPeriod has no default');
});

test('the old kubeadm file\'s udpIdleTimeout: 0s is kube-proxy\'s 250ms in userspace mode', () => {
  const c = resolve(load(KUBEADM_OLD, [['mode: ""', 'mode: userspace']])).proxy.config;
  assert.equal(c.udpIdleTimeoutMs, 250);
  assert.equal(c.proxyPortRange, '');
});

test('what kubeadm leaves empty is defaulted, but wrong values are still refused', () => {
  const refused = (replace: [string, string], pattern: RegExp): void => {
    assert.throws(
      () => resolve(load(KUBEADM, [replace]), null),
      (err: unknown) => isKproxyError(err) && err.code === 'E_CONFIG' && pattern.test(err.message),
    );
  };
  refused(['masqueradeBit: null\n  minSyncPeriod: 0s\n  syncPeriod: 0s\nipvs', 'masqueradeBit: 32\n  minSyncPeriod: 0s\n  syncPeriod: 0s\nipvs'], /iptables\.masqueradeBit: must be an integer from 0 to 31/);
  refused(['oomScoreAdj: null', 'oomScoreAdj: -1001'], /oomScoreAdj: must be within the range/);
  refused(['healthzBindAddress: ""', 'healthzBindAddress: "0.0.0.0:0"'], /healthzBindAddress: .*must be a valid port/);
  refused(['detectLocalMode: ""', 'detectLocalMode: BridgeInterface'], /detectLocal\.bridgeInterface: must not be empty/);
  refused(['hostnameOverride: ""', 'hostnameOverride: "   "'], /hostnameOverride: must not be empty/);
});
