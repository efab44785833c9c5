/**
 * The userspace mode without the node's address: only the host chains' rules (KUBE-PORTALS-HOST,
 * KUBE-NODEPORT-HOST, which DNAT to it) need it. `rules` renders everything else and warns once;
 * the daemon refuses to start when it cannot find one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildDesiredState } from '../../src/core/desired/build.js';
import type { DesiredState } from '../../src/core/desired/types.js';
import { DEFAULT_PROXY_CONFIG, type ProxyConfig } from '../../src/core/model/config.js';
import { DiagnosticSink } from '../../src/core/model/diagnostics.js';
import { KproxyError } from '../../src/core/errors.js';
import { checkHostAddress } from '../../src/daemon/userspace-dataplane.js';
import { serializeRuleset } from '../../src/dataplanes/iptables/serialize.js';
import { assignPorts } from '../../src/dataplanes/userspace/offline.js';
import { planListeners } from '../../src/dataplanes/userspace/plan.js';
import { KUBE_NODEPORT_HOST, KUBE_PORTALS_HOST, renderUserspace, renderUserspaceReport } from '../../src/dataplanes/userspace/render.js';
import { runKproxy } from '../helpers/cli.js';
import { repoPath } from '../helpers/paths.js';
import { cluster, service, slice } from './iptables-helpers.js';

const CONFIG: ProxyConfig = { ...DEFAULT_PROXY_CONFIG, nodeName: 'node-1', clusterCIDRs: ['172.18.0.0/16'] };
const ARTICLE = repoPath('examples/article-nginx.yaml');

/** A NodePort service with an externalIP and a LoadBalancer VIP, so every kind of host rule appears. */
function stateWith(nodeIPs: readonly string[]): DesiredState {
  const svc = service('default', 'web', {
    type: 'LoadBalancer',
    clusterIP: '172.18.255.20',
    externalIPs: ['203.0.113.9'],
    loadBalancerIngress: [{ ip: '198.51.100.50', ipMode: null, hostname: '' }],
    ports: [{ port: 80, nodePort: 30080 }, { name: 'dns', protocol: 'UDP', port: 53, nodePort: 30053 }],
  });
  const endpoints = slice('default', 'web-abc', 'web', [{ ip: '172.18.0.5', node: 'node-1', ready: true }], [{ port: 80 }, { name: 'dns', protocol: 'UDP', port: 53 }]);
  return buildDesiredState(cluster([svc], [endpoints]), { ...CONFIG, nodeIPs }, 'IPv4', new DiagnosticSink());
}

function renderInputs(state: DesiredState, hostIP: string): Parameters<typeof renderUserspace>[0] {
  const plan = planListeners(state);
  return { state, plan, ports: assignPorts(plan, { base: 40000, size: 100 }), host: { listenIP: '0.0.0.0', hostIP } };
}

const isHostRule = (line: string): boolean => line.startsWith(`-A ${KUBE_PORTALS_HOST} `) || line.startsWith(`-A ${KUBE_NODEPORT_HOST} `);

test('without the node address the renderer still refuses by default (the daemon must program every rule)', () => {
  const input = renderInputs(stateWith([]), '');
  assert.throws(() => renderUserspace(input), (e: unknown) => e instanceof KproxyError && e.code === 'E_RENDER' && /--node-ip/.test(e.message));
});

test('asked to omit them, only the host chains\' rules are left out, and they are counted', () => {
  const full = serializeRuleset(renderUserspace(renderInputs(stateWith(['192.168.49.2']), '192.168.49.2'))).split('\n');
  const hostLines = full.filter(isHostRule);
  assert.ok(hostLines.length >= 6, 'the fixture has ClusterIP, externalIP, LoadBalancer and NodePort host rules');
  assert.ok(hostLines.every((l) => l.includes('-j DNAT --to-destination 192.168.49.2:')));

  const partial = renderUserspaceReport({ ...renderInputs(stateWith([]), ''), unknownHostIP: 'omit' });
  assert.deepEqual(serializeRuleset(partial.ruleset).split('\n'), full.filter((l) => !isHostRule(l)));
  assert.equal(partial.omittedHostRules, hostLines.length);
  assert.deepEqual(partial.omittedServicePorts, ['default/web', 'default/web:dns']);

  const known = renderUserspaceReport({ ...renderInputs(stateWith(['192.168.49.2']), '192.168.49.2'), unknownHostIP: 'omit' });
  assert.equal(known.omittedHostRules, 0);
  assert.deepEqual(serializeRuleset(known.ruleset).split('\n'), full);
});

test('rules --mode userspace without a node address renders the rest, warns once, exits 0', () => {
  const r = runKproxy(['rules', '--mode', 'userspace', '-f', ARTICLE]);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /E_RENDER/);
  assert.match(r.stdout, /^-A KUBE-PORTALS-CONTAINER -m comment --comment default\/nginx -p tcp -m tcp --dport 80 -d 172\.18\.255\.127\/32 -j REDIRECT --to-ports 32768$/m);
  assert.doesNotMatch(r.stdout, /^-A KUBE-PORTALS-HOST /m);
  assert.match(r.stdout, /^:KUBE-PORTALS-HOST - \[0:0\]$/m, 'the chain is still declared, so the jumps to it stay valid');
  assert.match(r.stdout, /^# .*node's own traffic is left out.*--node-ip/m);
  const warnings = r.stderr.split('\n').filter((l) => /warning/.test(l));
  assert.equal(warnings.length, 1, r.stderr);
  assert.match(warnings[0] ?? '', /^flags: --node-ip: warning: userspace mode: .*1 rule\(s\) for traffic from the node itself .*left out \(for default\/nginx\); give --node-ip or the Node object/);
  assert.equal(runKproxy(['rules', '--mode', 'userspace', '-f', ARTICLE]).stdout, r.stdout, 'deterministic');
});

test('rules --mode userspace with --node-ip renders the host rules and does not warn', () => {
  const r = runKproxy(['rules', '--mode', 'userspace', '-f', ARTICLE, '--node-ip', '192.168.49.2']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^-A KUBE-PORTALS-HOST -m comment --comment default\/nginx -p tcp -m tcp --dport 80 -d 172\.18\.255\.127\/32 -j DNAT --to-destination 192\.168\.49\.2:32768$/m);
  assert.match(r.stdout, /node's own traffic is DNATed to 192\.168\.49\.2/);
  assert.doesNotMatch(r.stderr, /warning/);
});

test('the daemon needs an address for its first family: --node-ip or one on the host', () => {
  const none = (): string => '';
  assert.throws(
    () => checkHostAddress(CONFIG, 'IPv4', none),
    (e: unknown) => e instanceof KproxyError && e.code === 'E_CONFIG' && /no IPv4 address outside loopback.*give --node-ip/.test(e.message),
  );
  assert.doesNotThrow(() => checkHostAddress({ ...CONFIG, nodeIPs: ['10.0.0.5'] }, 'IPv4', none));
  assert.throws(() => checkHostAddress({ ...CONFIG, nodeIPs: ['10.0.0.5'] }, 'IPv6', none), /no IPv6 address/);
  assert.doesNotThrow(() => checkHostAddress(CONFIG, 'IPv4', () => '192.168.1.7'));
});
