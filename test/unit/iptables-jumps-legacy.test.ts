/** Jump rules (reference §4.2) and the v1.18 (`--format legacy`) renderer. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PROXY_CONFIG } from '../../src/core/model/config.js';
import { FULL_SYNC } from '../../src/dataplanes/api.js';
import { FRESH_CURRENT_NODE } from '../../src/dataplanes/iptables/host.js';
import { installedOrder, jumpRules } from '../../src/dataplanes/iptables/jumps.js';
import { installedJumpText } from '../../src/dataplanes/iptables/jumps-text.js';
import { renderIptables } from '../../src/dataplanes/iptables/render.js';
import { renderIptablesLegacy } from '../../src/dataplanes/iptables/render-legacy.js';
import { serializeRuleset } from '../../src/dataplanes/iptables/serialize.js';
import { cluster, dedent, desired, service, slice } from './iptables-helpers.js';

test('current jump rules: the 14 rows of reference §4.2, in order', () => {
  const rows = jumpRules('current').map((j) => `${j.table} ${j.chain} ${j.words.join(' ')}`);
  assert.deepEqual(rows, [
    'filter INPUT -m conntrack --ctstate NEW -m comment --comment kubernetes externally-visible service portals -j KUBE-EXTERNAL-SERVICES',
    'filter FORWARD -m conntrack --ctstate NEW -m comment --comment kubernetes externally-visible service portals -j KUBE-EXTERNAL-SERVICES',
    'filter INPUT -m comment --comment kubernetes health check service ports -j KUBE-NODEPORTS',
    'filter FORWARD -m conntrack --ctstate NEW -m comment --comment kubernetes service portals -j KUBE-SERVICES',
    'filter OUTPUT -m conntrack --ctstate NEW -m comment --comment kubernetes service portals -j KUBE-SERVICES',
    'filter FORWARD -m comment --comment kubernetes forwarding rules -j KUBE-FORWARD',
    'filter INPUT -m conntrack --ctstate NEW -m comment --comment kubernetes load balancer firewall -j KUBE-PROXY-FIREWALL',
    'filter OUTPUT -m conntrack --ctstate NEW -m comment --comment kubernetes load balancer firewall -j KUBE-PROXY-FIREWALL',
    'filter FORWARD -m conntrack --ctstate NEW -m comment --comment kubernetes load balancer firewall -j KUBE-PROXY-FIREWALL',
    'nat OUTPUT -m comment --comment kubernetes service portals -j KUBE-SERVICES',
    'nat PREROUTING -m comment --comment kubernetes service portals -j KUBE-SERVICES',
    'nat POSTROUTING -m comment --comment kubernetes postrouting rules -j KUBE-POSTROUTING',
    'filter INPUT -j KUBE-FIREWALL',
    'filter OUTPUT -j KUBE-FIREWALL',
  ]);
  const input = installedOrder(jumpRules('current')).filter((j) => j.table === 'filter' && j.chain === 'INPUT').map((j) => j.target);
  assert.deepEqual(input, ['KUBE-FIREWALL', 'KUBE-PROXY-FIREWALL', 'KUBE-NODEPORTS', 'KUBE-EXTERNAL-SERVICES']);
  assert.equal(jumpRules('legacy').length, 8);
});

const nginx = cluster(
  [service('default', 'nginx', { clusterIP: '172.18.255.127', ports: [{ port: 80 }] })],
  [slice('default', 'nginx-x7k2p', 'nginx', ['172.18.0.5', '172.18.0.6', '172.18.0.7'], [{ port: 80 }])],
);
const config = { ...DEFAULT_PROXY_CONFIG, nodeName: 'node-1', nodeIPs: ['192.168.0.2'] };

test('--show-jumps text: iptables commands, -N for a chain the restore input does not create', () => {
  const ipv6 = desired(nginx, config, 'IPv6');
  const text = installedJumpText(renderIptables({ state: ipv6, scope: FULL_SYNC, host: FRESH_CURRENT_NODE }), 'current', 'IPv6');
  const lines = text.split('\n').filter((l) => !l.startsWith('#') && l !== '');
  assert.equal(lines.length, 15);
  assert.equal(lines[0], 'ip6tables -t filter -I INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES');
  assert.equal(lines[12], 'ip6tables -t filter -N KUBE-FIREWALL');
  const ipv4 = installedJumpText(renderIptables({ state: desired(nginx, config), scope: FULL_SYNC, host: FRESH_CURRENT_NODE }), 'current', 'IPv4');
  assert.doesNotMatch(ipv4, / -N /, 'IPv4 with localhost NodePorts declares KUBE-FIREWALL itself');
});

test('legacy format: the article service as v1.18 emitted it (each balancing rule followed by its endpoint chain)', () => {
  const text = serializeRuleset(renderIptablesLegacy({ state: desired(nginx, config), scope: FULL_SYNC, host: FRESH_CURRENT_NODE }));
  assert.equal(
    text,
    dedent(`
      *filter
      :KUBE-SERVICES - [0:0]
      :KUBE-EXTERNAL-SERVICES - [0:0]
      :KUBE-FORWARD - [0:0]
      -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
      -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
      COMMIT
      *nat
      :KUBE-SERVICES - [0:0]
      :KUBE-NODEPORTS - [0:0]
      :KUBE-POSTROUTING - [0:0]
      :KUBE-MARK-MASQ - [0:0]
      :KUBE-SVC-4N57TFCL4MD7ZTDA - [0:0]
      :KUBE-SEP-G4A7DIXDTUZ6AHE3 - [0:0]
      :KUBE-SEP-J5YCYOGHESVN34H2 - [0:0]
      :KUBE-SEP-TPLSNUHWNBT6MT2B - [0:0]
      -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -m mark --mark 0x00004000/0x00004000 -j MASQUERADE --random-fully
      -A KUBE-MARK-MASQ -j MARK --set-xmark 0x00004000/0x00004000
      -A KUBE-SERVICES -m comment --comment "default/nginx: cluster IP" -m tcp -p tcp -d 172.18.255.127/32 --dport 80 -j KUBE-SVC-4N57TFCL4MD7ZTDA
      -A KUBE-SVC-4N57TFCL4MD7ZTDA -m comment --comment default/nginx: -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-G4A7DIXDTUZ6AHE3
      -A KUBE-SEP-G4A7DIXDTUZ6AHE3 -m comment --comment default/nginx: -s 172.18.0.5/32 -j KUBE-MARK-MASQ
      -A KUBE-SEP-G4A7DIXDTUZ6AHE3 -m comment --comment default/nginx: -m tcp -p tcp -j DNAT --to-destination 172.18.0.5:80
      -A KUBE-SVC-4N57TFCL4MD7ZTDA -m comment --comment default/nginx: -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-J5YCYOGHESVN34H2
      -A KUBE-SEP-J5YCYOGHESVN34H2 -m comment --comment default/nginx: -s 172.18.0.6/32 -j KUBE-MARK-MASQ
      -A KUBE-SEP-J5YCYOGHESVN34H2 -m comment --comment default/nginx: -m tcp -p tcp -j DNAT --to-destination 172.18.0.6:80
      -A KUBE-SVC-4N57TFCL4MD7ZTDA -m comment --comment default/nginx: -j KUBE-SEP-TPLSNUHWNBT6MT2B
      -A KUBE-SEP-TPLSNUHWNBT6MT2B -m comment --comment default/nginx: -s 172.18.0.7/32 -j KUBE-MARK-MASQ
      -A KUBE-SEP-TPLSNUHWNBT6MT2B -m comment --comment default/nginx: -m tcp -p tcp -j DNAT --to-destination 172.18.0.7:80
      -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
      COMMIT
    `),
  );
});

test('legacy format: v1.18 chains are cleaned up (KUBE-XLB-* too), current-only chains are not', () => {
  const state = desired(nginx, config);
  const ruleset = renderIptablesLegacy({
    state,
    scope: { full: false, changedServices: new Set() },
    host: { ...FRESH_CURRENT_NODE, existingNatChains: ['KUBE-XLB-OLD', 'KUBE-SVC-OLD', 'KUBE-EXT-NEW', 'KUBE-SVC-4N57TFCL4MD7ZTDA'] },
  });
  assert.deepEqual(ruleset.tables.find((t) => t.name === 'nat')?.deletedChains, ['KUBE-SVC-OLD', 'KUBE-XLB-OLD']);
  assert.match(serializeRuleset(ruleset), /KUBE-SEP-G4A7DIXDTUZ6AHE3 -m comment/, 'v1.18 always wrote everything');
});
