/**
 * The renderer's emission order and the options the goldens do not isolate: the worked example of
 * reference §5.11 byte for byte (kube-proxy's emission order, real mark, --random-fully), partial
 * syncs, stale-chain cleanup, host capabilities.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PROXY_CONFIG } from '../../src/core/model/config.js';
import { FULL_SYNC } from '../../src/dataplanes/api.js';
import { CURRENT_NODE_CAPABILITIES, FRESH_CURRENT_NODE } from '../../src/dataplanes/iptables/host.js';
import { renderIptables } from '../../src/dataplanes/iptables/render.js';
import { serializeRuleset } from '../../src/dataplanes/iptables/serialize.js';
import { FAKE_PROXIER_CONFIG, cluster, dedent, desired, fakeHost, service, slice } from './iptables-helpers.js';

const nginx = cluster(
  [service('default', 'nginx', { clusterIP: '172.18.255.127', ports: [{ port: 80 }] })],
  [slice('default', 'nginx-x7k2p', 'nginx', ['172.18.0.5', '172.18.0.6', '172.18.0.7'], [{ port: 80 }])],
);
const nginxConfig = { ...DEFAULT_PROXY_CONFIG, nodeName: 'node-1', nodeIPs: ['192.168.0.2'] };

test('the worked example of reference §5.11, in kube-proxy emission order', () => {
  const text = serializeRuleset(renderIptables({ state: desired(nginx, nginxConfig), scope: FULL_SYNC, host: FRESH_CURRENT_NODE }));
  assert.equal(
    text,
    dedent(`
      *filter
      :KUBE-SERVICES - [0:0]
      :KUBE-EXTERNAL-SERVICES - [0:0]
      :KUBE-FORWARD - [0:0]
      :KUBE-NODEPORTS - [0:0]
      :KUBE-PROXY-FIREWALL - [0:0]
      :KUBE-FIREWALL - [0:0]
      -A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
      -A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP
      -A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x00004000/0x00004000 -j ACCEPT
      -A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
      COMMIT
      *nat
      :KUBE-SERVICES - [0:0]
      :KUBE-NODEPORTS - [0:0]
      :KUBE-POSTROUTING - [0:0]
      :KUBE-MARK-MASQ - [0:0]
      :KUBE-SVC-2CMXP7HKUVJN7L6M - [0:0]
      :KUBE-SEP-QLIJNPST3ICX5TJY - [0:0]
      :KUBE-SEP-GLPL34GQHSYFHR3G - [0:0]
      :KUBE-SEP-HI2F4S4VJRUG452O - [0:0]
      -A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN
      -A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000
      -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
      -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000
      -A KUBE-SERVICES -m comment --comment "default/nginx cluster IP" -m tcp -p tcp -d 172.18.255.127 --dport 80 -j KUBE-SVC-2CMXP7HKUVJN7L6M
      -A KUBE-SVC-2CMXP7HKUVJN7L6M -m comment --comment "default/nginx -> 172.18.0.5:80" -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-QLIJNPST3ICX5TJY
      -A KUBE-SVC-2CMXP7HKUVJN7L6M -m comment --comment "default/nginx -> 172.18.0.6:80" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-GLPL34GQHSYFHR3G
      -A KUBE-SVC-2CMXP7HKUVJN7L6M -m comment --comment "default/nginx -> 172.18.0.7:80" -j KUBE-SEP-HI2F4S4VJRUG452O
      -A KUBE-SEP-QLIJNPST3ICX5TJY -m comment --comment default/nginx -s 172.18.0.5 -j KUBE-MARK-MASQ
      -A KUBE-SEP-QLIJNPST3ICX5TJY -m comment --comment default/nginx -m tcp -p tcp -j DNAT --to-destination 172.18.0.5:80
      -A KUBE-SEP-GLPL34GQHSYFHR3G -m comment --comment default/nginx -s 172.18.0.6 -j KUBE-MARK-MASQ
      -A KUBE-SEP-GLPL34GQHSYFHR3G -m comment --comment default/nginx -m tcp -p tcp -j DNAT --to-destination 172.18.0.6:80
      -A KUBE-SEP-HI2F4S4VJRUG452O -m comment --comment default/nginx -s 172.18.0.7 -j KUBE-MARK-MASQ
      -A KUBE-SEP-HI2F4S4VJRUG452O -m comment --comment default/nginx -m tcp -p tcp -j DNAT --to-destination 172.18.0.7:80
      -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
      COMMIT
    `),
  );
});

test('§5.11 variants: no --random-fully, no nfacct, tcp_be_liberal, a cluster CIDR', () => {
  const render = (caps: Partial<typeof CURRENT_NODE_CAPABILITIES>, cidr: string[] = []): string =>
    serializeRuleset(
      renderIptables({
        state: desired(nginx, { ...nginxConfig, clusterCIDRs: cidr }),
        scope: FULL_SYNC,
        host: { capabilities: { ...CURRENT_NODE_CAPABILITIES, ...caps }, existingNatChains: [] },
      }),
    );
  assert.match(render({ randomFully: false }), /-j MASQUERADE\n/);
  assert.match(render({ nfacctInvalidDropped: false }), /\n-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n/);
  assert.doesNotMatch(render({ tcpBeLiberal: true }), /INVALID/);
  assert.match(
    render({}, ['10.244.0.0/16']),
    /-A KUBE-SERVICES -m comment --comment "default\/nginx cluster IP" [^\n]+\n-A KUBE-SVC-2CMXP7HKUVJN7L6M -m comment --comment "default\/nginx cluster IP" -m tcp -p tcp -d 172.18.255.127 --dport 80 ! -s 10.244.0.0\/16 -j KUBE-MARK-MASQ\n/,
  );
});

test('a partial sync writes the shared chains for every service but only the changed services\' own chains', () => {
  const objects = cluster(
    [
      service('ns1', 'a', { clusterIP: '172.30.0.1', ports: [{ name: 'p', port: 80 }] }),
      service('ns2', 'b', { type: 'NodePort', clusterIP: '172.30.0.2', ports: [{ name: 'p', port: 80, nodePort: 30002 }] }),
    ],
    [slice('ns1', 'a-1', 'a', ['10.0.0.1'], [{ name: 'p', port: 80 }]), slice('ns2', 'b-1', 'b', ['10.0.0.2'], [{ name: 'p', port: 80 }])],
  );
  const state = desired(objects);
  const text = serializeRuleset(renderIptables({ state, scope: { full: false, changedServices: new Set(['ns2/b']) }, host: fakeHost() }));
  assert.match(text, /-A KUBE-SERVICES -m comment --comment "ns1\/a:p cluster IP"/);
  assert.match(text, /-A KUBE-SERVICES -m comment --comment "ns2\/b:p cluster IP"/);
  assert.match(text, /-A KUBE-NODEPORTS -m comment --comment ns2\/b:p /);
  const lines = text.split('\n');
  assert.ok(!lines.some((l) => /^-A KUBE-(SVC|SEP|EXT)-/.test(l) && l.includes('ns1/a')), 'no chain of the unchanged ns1/a');
  const ownChains = lines.filter((l) => /^:KUBE-(SVC|SVL|SEP|EXT|FW)-/.test(l));
  assert.equal(ownChains.length, 3, 'SVC, SEP and EXT of ns2/b only');
  assert.ok(lines.some((l) => /^-A KUBE-SEP-/.test(l) && l.includes('10.0.0.2:80')));
});

test('stale chains: only unused service chains are deleted; none when the host gives no chain list', () => {
  const state = desired(nginx, nginxConfig);
  const existing = ['KUBE-SVC-2CMXP7HKUVJN7L6M', 'KUBE-SVC-GONE0000000000000', 'KUBE-SEP-GONE0000000000000', 'KUBE-XLB-OLD', 'MY-CHAIN', 'KUBE-MARK-DROP'];
  const ruleset = renderIptables({ state, scope: FULL_SYNC, host: fakeHost(existing) });
  const nat = ruleset.tables.find((t) => t.name === 'nat');
  assert.deepEqual(nat?.deletedChains, ['KUBE-SEP-GONE0000000000000', 'KUBE-SVC-GONE0000000000000']);
  const none = renderIptables({ state, scope: FULL_SYNC, host: { ...fakeHost(), existingNatChains: null } });
  assert.deepEqual(none.tables.find((t) => t.name === 'nat')?.deletedChains, []);
});

test('IPv6: no KUBE-FIREWALL, no localhost NodePorts, the NodePort jump excludes ::1', () => {
  const objects = cluster(
    [service('ns1', 'v6', { type: 'NodePort', clusterIP: 'fd00::10', ports: [{ name: 'p', port: 80, nodePort: 30080 }] })],
    [slice('ns1', 'v6-1', 'v6', ['fd00:10::1'], [{ name: 'p', port: 80 }], 'IPv6')],
  );
  const text = serializeRuleset(renderIptables({ state: desired(objects, FAKE_PROXIER_CONFIG, 'IPv6'), scope: FULL_SYNC, host: fakeHost() }));
  assert.doesNotMatch(text, /KUBE-FIREWALL/);
  assert.doesNotMatch(text, /127\.0\.0\.0\/8/);
  assert.match(text, /-m addrtype --dst-type LOCAL ! -d ::1\/128 -j KUBE-NODEPORTS/);
  assert.match(text, /--to-destination \[fd00:10::1\]:80/);
  const npa = serializeRuleset(
    renderIptables({
      state: desired(objects, { ...FAKE_PROXIER_CONFIG, nodeIPs: ['2001:db8::1'], nodePortAddresses: ['::/0'] }, 'IPv6'),
      scope: FULL_SYNC,
      host: fakeHost(),
    }),
  );
  assert.match(npa, /! -d ::1\/128 -j KUBE-NODEPORTS/, '::/0 means all addresses');
});

test('localhost NodePorts follow kube-proxy: off when --nodeport-addresses excludes 127.0.0.1', () => {
  const objects = cluster(
    [service('ns1', 'np', { type: 'NodePort', clusterIP: '172.30.0.9', ports: [{ name: 'p', port: 80, nodePort: 30080 }] })],
    [slice('ns1', 'np-1', 'np', ['10.0.0.9'], [{ name: 'p', port: 80 }])],
  );
  const text = serializeRuleset(
    renderIptables({ state: desired(objects, { ...FAKE_PROXIER_CONFIG, nodePortAddresses: ['192.168.0.0/24'] }), scope: FULL_SYNC, host: fakeHost() }),
  );
  assert.doesNotMatch(text, /KUBE-FIREWALL -m comment/);
  assert.doesNotMatch(text, /localhost_nps_accepted_pkts/);
});
