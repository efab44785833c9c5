/** kube-proxy flags and --config → ProxyConfig (src/cli/options), and the rules command's request. */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { parseRulesFlags, rulesRequestFromOptions } from '../../src/cli/commands/rules.js';
import { v1alpha1Yaml } from '../../src/cli/options/effective-config.js';
import { parseKubeProxyConfiguration } from '../../src/cli/options/kube-proxy-config.js';
import { DEFAULT_OPERATIONAL } from '../../src/cli/options/operational.js';
import { proxyConfigFromOptions } from '../../src/cli/options/proxy-options.js';
import { checkDuration } from '../../src/cli/options/validate.js';
import { isKproxyError } from '../../src/core/errors.js';
import { formatDiagnostic } from '../../src/core/model/diagnostics.js';

function request(...args: string[]): ReturnType<typeof rulesRequestFromOptions> {
  return rulesRequestFromOptions(parseRulesFlags([...args, '-f', 'x.yaml']));
}

test('defaults: kube-proxy defaults, hostname lower-cased, a current node', () => {
  const r = request();
  assert.equal(r.proxy.config.mode, 'iptables');
  assert.equal(r.proxy.config.nodeName, hostname().trim().toLowerCase());
  assert.equal(r.proxy.config.masqueradeBit, 14);
  assert.equal(r.proxy.config.localhostNodePorts, true);
  assert.equal(r.proxy.config.masqueradeAll, false);
  assert.deepEqual(r.proxy.config.clusterCIDRs, []);
  assert.equal(r.family, 'IPv4');
  assert.equal(r.format, 'current');
  assert.equal(r.showJumps, false);
  assert.deepEqual(r.capabilities, { randomFully: true, nfacctInvalidDropped: true, nfacctLocalhostNodePorts: true, tcpBeLiberal: false });
});

test('every flag reaches the request', () => {
  const r = request(
    '--mode', 'iptables', '--hostname-override', ' Node-A ', '--node-ip', '192.168.0.2', '--node-ip', '2001:db8::1',
    '--cluster-cidr', '10.0.0.0/8,fd00::/64', '--detect-local-mode', 'InterfaceNamePrefix', '--pod-interface-name-prefix', 'veth',
    '--masquerade-all', '--nodeport-addresses', '192.168.0.0/24,127.0.0.0/8', '--iptables-masquerade-bit', '3',
    '--iptables-localhost-nodeports=false', '--conntrack-tcp-be-liberal', '--feature-gates', 'PreferSameTrafficDistribution=false',
    '--ip-family', 'ipv6', '--format', 'legacy', '--show-jumps', '--no-random-fully', '--no-nfacct',
  );
  const c = r.proxy.config;
  assert.equal(c.nodeName, 'node-a');
  assert.deepEqual(c.nodeIPs, ['192.168.0.2', '2001:db8::1']);
  assert.deepEqual(c.clusterCIDRs, ['10.0.0.0/8', 'fd00::/64']);
  assert.equal(c.detectLocalMode, 'InterfaceNamePrefix');
  assert.equal(c.interfaceNamePrefix, 'veth');
  assert.equal(c.masqueradeAll, true);
  assert.deepEqual(c.nodePortAddresses, ['192.168.0.0/24', '127.0.0.0/8']);
  assert.equal(c.masqueradeBit, 3);
  assert.equal(c.localhostNodePorts, false);
  assert.deepEqual(c.featureGates, { PreferSameTrafficDistribution: false });
  assert.equal(r.family, 'IPv6');
  assert.equal(r.format, 'legacy');
  assert.equal(r.showJumps, true);
  assert.deepEqual(r.capabilities, { randomFully: false, nfacctInvalidDropped: false, nfacctLocalhostNodePorts: false, tcpBeLiberal: true });
});

function usageError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => isKproxyError(err) && pattern.test(err.message));
}

test('bad flag values are usage errors naming the flag', () => {
  usageError(() => request('--iptables-masquerade-bit', '32'), /--iptables-masquerade-bit: must be an integer from 0 to 31/);
  usageError(() => request('--cluster-cidr', '10.0.0.0/33'), /--cluster-cidr: "10.0.0.0\/33" is not a valid CIDR/);
  usageError(() => request('--cluster-cidr', '10.0.0.0/8,10.1.0.0/16'), /two IPv4 CIDRs/);
  usageError(() => request('--detect-local-mode', 'Magic'), /--detect-local-mode: must be one of/);
  usageError(() => request('--nodeport-addresses', 'primary,10.0.0.0/8'), /"primary" cannot be combined/);
  usageError(() => request('--node-ip', '300.1.1.1'), /--node-ip: "300.1.1.1" is not a valid IP/);
  usageError(() => request('--masquerade-all=maybe'), /--masquerade-all: "maybe" is not a boolean/);
  usageError(() => request('--mode', 'nftables', '--proxy-mode', 'iptables'), /disagree/);
  usageError(() => request('--mode', 'ipvs'), /not available yet/);
  usageError(() => request('--ip-family', 'ipv5'), /ipv5/);
  usageError(() => request('--detect-local-mode', 'BridgeInterface'), /needs a bridge interface name/);
  usageError(() => rulesRequestFromOptions(parseRulesFlags([])), /-f PATH/);
});

const CONFIG = `
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
bindAddress: 0.0.0.0
clientConnection: {burst: 10, qps: 5, kubeconfig: ""}
clusterCIDR: 10.244.0.0/16
conntrack: {maxPerCore: 32768, tcpBeLiberal: true, tcpEstablishedTimeout: 24h0m0s}
detectLocal: {bridgeInterface: cbr0, interfaceNamePrefix: ""}
detectLocalMode: BridgeInterface
featureGates: {PreferSameTrafficDistribution: false}
healthzBindAddress: 0.0.0.0:10256
hostnameOverride: Worker-1
iptables: {localhostNodePorts: false, masqueradeAll: true, masqueradeBit: 10, minSyncPeriod: 2s, syncPeriod: 1m0s}
ipvs: {syncPeriod: 30s, strictARP: false}
logging: {format: text, verbosity: 2}
metricsBindAddress: 127.0.0.1:10249
mode: ""
nftables: {masqueradeAll: false, masqueradeBit: 14}
nodePortAddresses: [primary]
oomScoreAdj: -999
`;

test('a KubeProxyConfiguration file: every field that changes rendered rules', () => {
  const file = parseKubeProxyConfiguration(CONFIG, 'kp.yaml');
  assert.deepEqual(file.warnings, []);
  const r = proxyConfigFromOptions({}, file);
  const c = r.config;
  assert.equal(c.mode, 'iptables');
  assert.equal(c.nodeName, 'worker-1');
  assert.deepEqual(c.clusterCIDRs, ['10.244.0.0/16']);
  assert.equal(c.detectLocalMode, 'BridgeInterface');
  assert.equal(c.bridgeInterface, 'cbr0');
  assert.equal(c.masqueradeAll, true);
  assert.equal(c.masqueradeBit, 10);
  assert.equal(c.localhostNodePorts, false);
  assert.deepEqual(c.nodePortAddresses, ['primary']);
  assert.equal(c.syncPeriodSeconds, 60);
  assert.equal(c.minSyncPeriodSeconds, 2);
  assert.deepEqual(c.featureGates, { PreferSameTrafficDistribution: false });
  assert.equal(r.conntrackTCPBeLiberal, true);
});

test('nftables mode reads masquerade settings from the nftables block', () => {
  const file = parseKubeProxyConfiguration(CONFIG.replace('mode: ""', 'mode: nftables'), 'kp.yaml');
  const c = proxyConfigFromOptions({}, file).config;
  assert.equal(c.mode, 'nftables');
  assert.equal(c.masqueradeAll, false);
  assert.equal(c.masqueradeBit, 14);
});

test('with --config, proxy flags other than --hostname-override (and kproxy\'s --node-ip) are ignored with a warning', () => {
  const file = parseKubeProxyConfiguration(CONFIG, 'kp.yaml');
  const r = proxyConfigFromOptions({ masqueradeAll: false, clusterCidr: '10.0.0.0/8', hostnameOverride: 'Other', nodeIp: ['10.1.1.1'] }, file);
  assert.equal(r.config.masqueradeAll, true);
  assert.deepEqual(r.config.clusterCIDRs, ['10.244.0.0/16']);
  assert.equal(r.config.nodeName, 'other');
  assert.deepEqual(r.config.nodeIPs, ['10.1.1.1']);
  assert.deepEqual(r.warnings.map(formatDiagnostic), ['flags: --cluster-cidr, --masquerade-all: warning: ignored because --config kp.yaml is given (as kube-proxy does)']);
});

test('unknown config fields are warnings; invalid ones are errors naming file and field', () => {
  const file = parseKubeProxyConfiguration(CONFIG + 'bogus: 1\niptables2: {}\n', 'kp.yaml');
  assert.deepEqual(file.warnings.map(formatDiagnostic), ['kp.yaml: bogus: warning: unknown field, ignored', 'kp.yaml: iptables2: warning: unknown field, ignored']);
  const bad = (text: string, pattern: RegExp): void => {
    assert.throws(() => parseKubeProxyConfiguration(text, 'kp.yaml'), (err: unknown) => isKproxyError(err) && err.code === 'E_CONFIG' && pattern.test(err.message));
  };
  bad(CONFIG.replace('masqueradeBit: 10', 'masqueradeBit: 99'), /kp\.yaml: iptables\.masqueradeBit: must be an integer from 0 to 31/);
  bad(CONFIG.replace('masqueradeAll: true', 'masqueradeAll: "yes"'), /kp\.yaml: iptables\.masqueradeAll: must be true or false/);
  bad(CONFIG.replace('syncPeriod: 1m0s', 'syncPeriod: soon'), /iptables\.syncPeriod: must be a duration/);
  bad(CONFIG.replace('clusterCIDR: 10.244.0.0/16', 'clusterCIDR: nope'), /clusterCIDR: "nope" is not a valid CIDR/);
  bad(CONFIG.replace('mode: ""', 'mode: kernelspace'), /mode: must be one of/);
  bad(CONFIG.replace('kind: KubeProxyConfiguration', 'kind: Pod'), /kind: must be KubeProxyConfiguration/);
  bad(CONFIG.replace('v1alpha1', 'v1beta9'), /apiVersion: must be kubeproxy\.config\.k8s\.io\/v1alpha1/);
  bad('a: [', /not valid YAML/);
});

test('Go durations', () => {
  assert.deepEqual(checkDuration('1h0m0s'), { ok: true, value: 3600 });
  assert.deepEqual(checkDuration('1m30s'), { ok: true, value: 90 });
  assert.deepEqual(checkDuration('500ms'), { ok: true, value: 0.5 });
  assert.deepEqual(checkDuration('0'), { ok: true, value: 0 });
  assert.equal(checkDuration('30').ok, false);
  assert.equal(checkDuration('1x').ok, false);
});

test('userspace fields of the file: portRange and udpIdleTimeout reach the configuration', () => {
  const userspace = (fields: string): ReturnType<typeof proxyConfigFromOptions> =>
    proxyConfigFromOptions({}, parseKubeProxyConfiguration(CONFIG.replace('mode: ""', `mode: userspace\n${fields}`), 'kp.yaml'));
  const c = userspace('portRange: 30000-30100\nudpIdleTimeout: 1s500ms').config;
  assert.equal(c.mode, 'userspace');
  assert.equal(c.proxyPortRange, '30000-30100');
  assert.equal(c.udpIdleTimeoutMs, 1500);
  assert.equal(userspace('portRange: "40000+9"').config.proxyPortRange, '40000+9');
  const unset = userspace('').config;
  assert.equal(unset.proxyPortRange, '', 'unset: the kernel picks each proxy port');
  assert.equal(unset.udpIdleTimeoutMs, 250, 'unset: kube-proxy\'s 250ms');
  assert.equal(userspace('udpIdleTimeout: 0s').config.udpIdleTimeoutMs, 250, 'a zero duration is defaulted, as kube-proxy defaults it');
  assert.equal(userspace('portRange: ""').config.proxyPortRange, '');
});

test('with --config, --proxy-port-range and --udp-timeout are ignored for the file\'s values', () => {
  const file = parseKubeProxyConfiguration(CONFIG.replace('mode: ""', 'mode: userspace\nportRange: 31000-31010\nudpIdleTimeout: 2s'), 'kp.yaml');
  const r = proxyConfigFromOptions({ proxyPortRange: '32000-32010', udpTimeout: '5s' }, file);
  assert.equal(r.config.proxyPortRange, '31000-31010');
  assert.equal(r.config.udpIdleTimeoutMs, 2000);
  assert.deepEqual(r.warnings.map(formatDiagnostic), ['flags: --proxy-port-range, --udp-timeout: warning: ignored because --config kp.yaml is given (as kube-proxy does)']);
});

test('bad portRange and udpIdleTimeout values are errors naming the field (file) or the flag', () => {
  const bad = (fields: string, pattern: RegExp): void => {
    const text = CONFIG.replace('mode: ""', `mode: userspace\n${fields}`);
    assert.throws(() => parseKubeProxyConfiguration(text, 'kp.yaml'), (err: unknown) => isKproxyError(err) && err.code === 'E_CONFIG' && pattern.test(err.message));
  };
  bad('portRange: lots', /kp\.yaml: portRange: "lots" is not a port range/);
  bad('portRange: 2000-1000', /kp\.yaml: portRange: "2000-1000": the end of the range is below its start/);
  bad('portRange: "70000"', /kp\.yaml: portRange: .*ports up to 65535/);
  bad('portRange: 30000', /kp\.yaml: portRange: must be a string/);
  bad('udpIdleTimeout: soon', /kp\.yaml: udpIdleTimeout: must be a duration/);
  bad('udpIdleTimeout: -1s', /kp\.yaml: udpIdleTimeout: must be a duration/);
  const flags = (opts: Parameters<typeof proxyConfigFromOptions>[0]): ReturnType<typeof proxyConfigFromOptions> =>
    proxyConfigFromOptions({ hostnameOverride: 'n1', ...opts });
  assert.equal(flags({ proxyPortRange: ' 30000-30009 ' }).config.proxyPortRange, '30000-30009');
  assert.equal(flags({ udpTimeout: '2s' }).config.udpIdleTimeoutMs, 2000);
  usageError(() => flags({ udpTimeout: '0s' }), /--udp-timeout: must be greater than 0/);
  usageError(() => flags({ udpTimeout: 'soon' }), /--udp-timeout: "soon" is not a duration/);
  usageError(() => flags({ proxyPortRange: '0-10' }), /--proxy-port-range: "0-10": port 0 cannot be part of a range/);
});

test('the written configuration keeps portRange and, in userspace mode, udpIdleTimeout (it reads back the same)', () => {
  const file = parseKubeProxyConfiguration(CONFIG.replace('mode: ""', 'mode: userspace\nportRange: 31000-31010\nudpIdleTimeout: 750ms'), 'kp.yaml');
  const config = proxyConfigFromOptions({}, file).config;
  const written = v1alpha1Yaml(config, DEFAULT_OPERATIONAL);
  assert.match(written, /^portRange: 31000-31010$/m);
  assert.match(written, /^udpIdleTimeout: 750ms$/m);
  const again = proxyConfigFromOptions({}, parseKubeProxyConfiguration(written, 'written.yaml')).config;
  assert.equal(again.proxyPortRange, '31000-31010');
  assert.equal(again.udpIdleTimeoutMs, 750);
  assert.doesNotMatch(v1alpha1Yaml({ ...config, mode: 'iptables' }, DEFAULT_OPERATIONAL), /udpIdleTimeout/, 'a field of removed kube-proxy versions, written only for userspace mode');
});
