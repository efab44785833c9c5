/**
 * --config completed: every KubeProxyConfiguration field is read, validated as kube-proxy
 * validates it (all problems reported at once, by field path), kube-proxy's precedence between
 * the file and the flags, bindAddress as the node's primary IP, and the effective configuration
 * written back (v1alpha1, kube-proxy's defaults and formats).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { DEFAULT_PROXY_CONFIG } from '../../src/core/model/config.js';
import { formatDiagnostic } from '../../src/core/model/diagnostics.js';
import { goDuration, v1alpha1Yaml } from '../../src/cli/options/effective-config.js';
import { parseKubeProxyConfiguration } from '../../src/cli/options/kube-proxy-config.js';
import { DEFAULT_OPERATIONAL, operationalFlagsReplacedByConfig, operationalFromOptions, withBindAddress } from '../../src/cli/options/operational.js';
import { proxyConfigFromOptions } from '../../src/cli/options/proxy-options.js';

const HEAD = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n';

function fromFile(body: string, flags: Record<string, string> = {}): ReturnType<typeof operationalFromOptions> & { warnings: readonly string[] } {
  const file = parseKubeProxyConfiguration(HEAD + body, 'kp.yaml');
  const proxy = proxyConfigFromOptions({ hostnameOverride: 'n1' }, file, operationalFlagsReplacedByConfig(flags));
  const op = operationalFromOptions(flags, proxy.config, file);
  return { ...op, warnings: proxy.warnings.map(formatDiagnostic) };
}

test('the file\'s operational fields are read; flags it replaces are ignored with a warning; --master still applies', () => {
  const r = fromFile(
    [
      'clientConnection: {kubeconfig: /var/lib/kube-proxy/kubeconfig.conf, qps: 20, burst: 40, contentType: application/json}',
      'bindAddressHardFail: true',
      'configSyncPeriod: 5m',
      'oomScoreAdj: -500',
      'conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 2h0m0s}',
      'logging: {format: json, verbosity: 2}',
      'ipvs: {excludeCIDRs: [10.0.0.0/8], strictARP: true}',
      '',
    ].join('\n'),
    { kubeconfig: '/other', master: 'https://10.0.0.1:6443', oomScoreAdj: '7' },
  );
  const s = r.settings;
  assert.equal(s.kubeconfig, '/var/lib/kube-proxy/kubeconfig.conf');
  assert.equal(s.master, 'https://10.0.0.1:6443');
  assert.equal(s.qps, 20);
  assert.equal(s.burst, 40);
  assert.equal(s.contentType, 'application/json');
  assert.equal(s.bindAddressHardFail, true);
  assert.equal(s.configSyncPeriodSeconds, 300);
  assert.equal(s.oomScoreAdj, -500);
  assert.equal(s.conntrack.tcpEstablishedTimeoutSeconds, 7200);
  assert.equal(s.conntrack.tcpCloseWaitTimeoutSeconds, 3600, 'unset fields keep kube-proxy\'s defaults');
  assert.equal(s.loggingFormat, 'json');
  assert.deepEqual(s.ipvs.excludeCIDRs, ['10.0.0.0/8']);
  assert.equal(s.ipvs.strictARP, true);
  assert.match(r.warnings.join('\n'), /^flags: --kubeconfig, --oom-score-adj: warning: ignored because --config kp\.yaml is given/m);
});

test('without a file the flags apply, over kube-proxy\'s defaults', () => {
  const r = operationalFromOptions(
    { kubeconfig: '/k', bindAddressHardFail: true, configSyncPeriod: '1m', kubeApiQps: '2.5', ipvsExcludeCidrs: '10.0.0.0/8, 192.168.0.0/16' },
    DEFAULT_PROXY_CONFIG,
  );
  assert.equal(r.settings.kubeconfig, '/k');
  assert.equal(r.settings.bindAddressHardFail, true);
  assert.equal(r.settings.configSyncPeriodSeconds, 60);
  assert.equal(r.settings.qps, 2.5);
  assert.deepEqual(r.settings.ipvs.excludeCIDRs, ['10.0.0.0/8', '192.168.0.0/16']);
  assert.equal(r.settings.oomScoreAdj, -999);
  assert.deepEqual(operationalFromOptions({}, DEFAULT_PROXY_CONFIG).settings, DEFAULT_OPERATIONAL);
});

test('invalid values are all reported at once, each by its field path (file) or flag', () => {
  let message = '';
  try {
    // Loading the file already names every invalid field (kube-proxy validates the whole object).
    const file = parseKubeProxyConfiguration(
      HEAD +
        [
          'bindAddress: not-an-ip',
          'oomScoreAdj: 2000',
          'configSyncPeriod: 0s',
          'healthzBindAddress: 1.2.3.4',
          'metricsBindAddress: localhost:10249',
          'iptables: {syncPeriod: 10s, minSyncPeriod: 20s}',
          'clientConnection: {burst: -1}',
          'mode: ipvs',
          'ipvs: {scheduler: fastest, excludeCIDRs: [nope], syncPeriod: 30s}',
          '',
        ].join('\n'),
      'bad.yaml',
    );
    operationalFromOptions({}, proxyConfigFromOptions({ hostnameOverride: 'n1' }, file).config, file);
  } catch (err) {
    message = err instanceof Error ? err.message : String(err);
  }
  // Zeros and bare IPs are defaulted before validation, as kube-proxy does: not errors.
  assert.doesNotMatch(message, /configSyncPeriod|healthzBindAddress/);
  for (const expected of [
    /bad\.yaml: bindAddress: "not-an-ip" is not an IP address/,
    /bad\.yaml: oomScoreAdj: must be within the range \[-1000, 1000\]/,
    /bad\.yaml: metricsBindAddress: "localhost:10249": "localhost" is not an IP address/,
    /bad\.yaml: clientConnection\.burst: must be greater than or equal to 0/,
    /bad\.yaml: ipvs\.scheduler: must be one of rr, .* \(got "fastest"\)/,
    /bad\.yaml: ipvs\.excludeCIDRs: "nope" is not a valid CIDR/,
  ]) {
    assert.match(message, expected);
  }
  // In iptables mode the iptables block's periods are the ones checked.
  assert.throws(
    () => {
      const f = parseKubeProxyConfiguration(HEAD + 'iptables: {syncPeriod: 10s, minSyncPeriod: 20s}\n', 'p.yaml');
      operationalFromOptions({}, proxyConfigFromOptions({ hostnameOverride: 'n1' }, f).config, f);
    },
    /p\.yaml: iptables\.minSyncPeriod: must be less than or equal to the sync period/,
  );
  assert.throws(() => operationalFromOptions({ oomScoreAdj: 'abc', kubeApiBurst: '1.5' }, DEFAULT_PROXY_CONFIG), (err: Error) => {
    assert.match(err.message, /--oom-score-adj: "abc" is not an integer/);
    assert.match(err.message, /--kube-api-burst: "1\.5" is not an integer/);
    return true;
  });
});

test('unknown fields are warnings that name the field; wrong types are errors', () => {
  const file = parseKubeProxyConfiguration(HEAD + 'bogus: 1\nlogging: {format: text, colour: blue}\n', 'u.yaml');
  assert.deepEqual(file.warnings.map(formatDiagnostic), ['u.yaml: bogus: warning: unknown field, ignored', 'u.yaml: logging.colour: warning: unknown field, ignored']);
  assert.throws(() => parseKubeProxyConfiguration(HEAD + 'oomScoreAdj: lots\n', 't.yaml'), /t\.yaml: oomScoreAdj: must be an integer/);
});

test('bindAddress, when set, is the node\'s primary IP', () => {
  const op = { ...DEFAULT_OPERATIONAL, bindAddress: '192.168.0.7' };
  assert.deepEqual(withBindAddress({ ...DEFAULT_PROXY_CONFIG, nodeIPs: ['10.0.0.1'] }, op).nodeIPs, ['192.168.0.7', '10.0.0.1']);
  assert.deepEqual(withBindAddress({ ...DEFAULT_PROXY_CONFIG, nodeIPs: ['10.0.0.1'] }, DEFAULT_OPERATIONAL).nodeIPs, ['10.0.0.1']);
});

test('Go durations as KubeProxyConfiguration writes them', () => {
  assert.deepEqual([0, 0.25, 1, 30, 90, 900, 3600, 86400].map(goDuration), ['0s', '250ms', '1s', '30s', '1m30s', '15m0s', '1h0m0s', '24h0m0s']);
});

test('the written defaults are kube-proxy\'s defaulted v1alpha1 object (reference C.2), keys sorted', () => {
  const op = operationalFromOptions({}, { ...DEFAULT_PROXY_CONFIG, nodeName: '' }).settings;
  const text = v1alpha1Yaml({ ...DEFAULT_PROXY_CONFIG, nodeName: '' }, op);
  const written = parse(text) as Record<string, unknown>;
  const expected: Record<string, unknown> = {
    bindAddress: '0.0.0.0',
    bindAddressHardFail: false,
    clientConnection: { acceptContentTypes: '', burst: 10, contentType: 'application/vnd.kubernetes.protobuf', kubeconfig: '', qps: 5 },
    clusterCIDR: '',
    configSyncPeriod: '15m0s',
    conntrack: {
      maxPerCore: 32768, min: 131072, tcpBeLiberal: false, tcpCloseWaitTimeout: '1h0m0s',
      tcpEstablishedTimeout: '24h0m0s', udpStreamTimeout: '0s', udpTimeout: '0s',
    },
    detectLocal: { bridgeInterface: '', interfaceNamePrefix: '' },
    enableProfiling: false,
    healthzBindAddress: '0.0.0.0:10256',
    hostnameOverride: '',
    iptables: { localhostNodePorts: true, masqueradeAll: false, masqueradeBit: 14, minSyncPeriod: '1s', syncPeriod: '30s' },
    ipvs: {
      excludeCIDRs: null, ipSet: { hashSize: 1024, maxElements: 65536 }, minSyncPeriod: '0s', scheduler: '',
      strictARP: false, syncPeriod: '0s', tcpFinTimeout: '0s', tcpTimeout: '0s', udpTimeout: '0s',
    },
    metricsBindAddress: '127.0.0.1:10249',
    nftables: { masqueradeAll: false, masqueradeBit: 14, minSyncPeriod: '0s', syncPeriod: '0s' },
    nodePortAddresses: null,
    oomScoreAdj: -999,
    portRange: '',
    showHiddenMetricsForVersion: '',
  };
  for (const [k, v] of Object.entries(expected)) assert.deepEqual(written[k], v, k);
  const keys = Object.keys(written);
  assert.deepEqual(keys, [...keys].sort());
});

test('bindAddressHardFail: a busy port is fatal when set, and retried in the background otherwise', async () => {
  const { createServer } = await import('node:net');
  const { startWithRetry, startMetricsServer } = await import('../../src/runtime/http-servers.js');
  const { ProxyMetrics } = await import('../../src/runtime/metrics.js');
  const { privateLoopbackIP, quietPort } = await import('../helpers/ports.js');
  // A port no other socket can take once the blocker lets go of it (a port from listen(0) could be).
  const host = privateLoopbackIP();
  const port = await quietPort(host);
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(port, host, () => r()));
  const start = (): ReturnType<typeof startMetricsServer> => startMetricsServer({ host, port }, new ProxyMetrics(), 'iptables');
  await assert.rejects(startWithRetry(start, { hardFail: true, onRetry: () => undefined }), /EADDRINUSE/);
  const retries: string[] = [];
  const handle = await startWithRetry(start, { hardFail: false, retryMs: 50, onRetry: (err) => retries.push(err.message) });
  await new Promise((r) => setTimeout(r, 120));
  assert.ok(retries.length >= 2, `retried (${retries.length})`);
  await new Promise<void>((r) => blocker.close(() => r()));
  let answered = false;
  for (let i = 0; i < 400 && !answered; i++) {
    await new Promise((r) => setTimeout(r, 25));
    answered = await fetch(`http://${host}:${port}/proxyMode`).then((r) => r.ok, () => false);
  }
  assert.ok(answered, 'the server came up once the port was free');
  await handle.close();
});
