/** The userspace dataplane's pure parts: port ranges, the listener plan, the portal rules. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDesiredState } from '../../src/core/desired/build.js';
import type { DesiredState } from '../../src/core/desired/types.js';
import { DEFAULT_PROXY_CONFIG, type ProxyConfig } from '../../src/core/model/config.js';
import { DiagnosticSink } from '../../src/core/model/diagnostics.js';
import type { ClusterObjects } from '../../src/core/model/objects.js';
import { parseIptables } from '../../src/dataplanes/iptables/parse.js';
import { serializeRuleset } from '../../src/dataplanes/iptables/serialize.js';
import { userspaceJumps } from '../../src/dataplanes/userspace/jumps.js';
import { assignPorts, offlineUserspaceText } from '../../src/dataplanes/userspace/offline.js';
import { planListeners } from '../../src/dataplanes/userspace/plan.js';
import { PortRangeAllocator, parsePortRange } from '../../src/dataplanes/userspace/ports.js';
import { renderUserspace } from '../../src/dataplanes/userspace/render.js';
import { cluster, service, slice, type ServiceSpec } from './iptables-helpers.js';

const CONFIG: ProxyConfig = { ...DEFAULT_PROXY_CONFIG, nodeName: 'node-1', nodeIPs: ['192.168.49.2'], clusterCIDRs: ['172.18.0.0/16'] };
const HOST = { listenIP: '0.0.0.0', hostIP: '192.168.49.2' };

function state(objects: ClusterObjects, config: ProxyConfig = CONFIG): DesiredState {
  return buildDesiredState(objects, config, 'IPv4', new DiagnosticSink());
}

const NGINX_ENDPOINTS = slice('default', 'nginx-abc', 'nginx', ['172.18.0.5', '172.18.0.6', '172.18.0.7'].map((ip) => ({ ip, node: 'node-1', ready: true })), [{ port: 80 }]);

function nginx(extra: Partial<ServiceSpec> = {}): ClusterObjects {
  return cluster([service('default', 'nginx', { clusterIP: '172.18.255.127', ports: [{ port: 80 }], ...extra })], [NGINX_ENDPOINTS]);
}

/** Rules of one chain, as restore lines without the `-A CHAIN` prefix. */
function rulesOf(text: string, chain: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`-A ${chain} `))
    .map((l) => l.slice(`-A ${chain} `.length));
}

describe('--proxy-port-range', () => {
  test('kube-proxy spellings', () => {
    assert.deepEqual(parsePortRange(''), { range: null });
    assert.deepEqual(parsePortRange('0-0'), { range: null });
    assert.deepEqual(parsePortRange('30000-30009'), { range: { base: 30000, size: 10 } });
    assert.deepEqual(parsePortRange('30000+9'), { range: { base: 30000, size: 10 } });
    assert.deepEqual(parsePortRange('4000'), { range: { base: 4000, size: 1 } });
    for (const bad of ['x', '2000-1000', '1-70000', '0-10', '65535+1', '-5']) {
      assert.ok('error' in parsePortRange(bad), `"${bad}" is refused`);
    }
  });

  test('next-fit allocation: a released port is reused only after the rest of the range', () => {
    const a = new PortRangeAllocator({ base: 100, size: 3 });
    assert.deepEqual([a.allocate(), a.allocate()], [100, 101]);
    a.release(100);
    assert.equal(a.allocate(), 102);
    assert.equal(a.allocate(), 100);
    assert.throws(() => a.allocate(), /no remaining ports left to allocate in the accepted range 100-102/);
    a.release(101);
    assert.equal(a.reserve(101), true);
    assert.equal(a.reserve(7), false);
    assert.throws(() => a.allocate(), /no remaining ports/);
  });
});

describe('portal rules', () => {
  test('the article\'s nginx as NodePort: kube-proxy\'s worked example, word for word', () => {
    const s = state(nginx({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }));
    const plan = planListeners(s);
    assert.equal(plan.frontends.length, 1, 'one proxy port for an ordinary service');
    const [f] = plan.frontends;
    assert.ok(f !== undefined);
    const text = serializeRuleset(renderUserspace({ state: s, plan, ports: new Map([[f.id, 41234]]), host: HOST }));
    assert.deepEqual(rulesOf(text, 'KUBE-PORTALS-CONTAINER'), [
      '-m comment --comment default/nginx -p tcp -m tcp --dport 80 -d 172.18.255.127/32 -j REDIRECT --to-ports 41234',
    ]);
    assert.deepEqual(rulesOf(text, 'KUBE-PORTALS-HOST'), [
      '-m comment --comment default/nginx -p tcp -m tcp --dport 80 -d 172.18.255.127/32 -j DNAT --to-destination 192.168.49.2:41234',
    ]);
    assert.deepEqual(rulesOf(text, 'KUBE-NODEPORT-CONTAINER'), [
      '-m comment --comment default/nginx -p tcp -m tcp --dport 30080 -j REDIRECT --to-ports 41234',
    ]);
    assert.deepEqual(rulesOf(text, 'KUBE-NODEPORT-HOST'), [
      '-m comment --comment default/nginx -p tcp -m tcp --dport 30080 -j DNAT --to-destination 192.168.49.2:41234',
    ]);
    assert.deepEqual(rulesOf(text, 'KUBE-NODEPORT-NON-LOCAL'), [
      '-m comment --comment default/nginx -p tcp -m tcp --dport 41234 -m state --state NEW -j ACCEPT',
    ]);
    // The restore text declares (and so flushes) the five chains, and parses back.
    const parsed = parseIptables(text);
    assert.deepEqual(parsed.tables.map((t) => [t.name, t.chains.map((c) => c.name)]), [
      ['filter', ['KUBE-NODEPORT-NON-LOCAL']],
      ['nat', ['KUBE-PORTALS-CONTAINER', 'KUBE-PORTALS-HOST', 'KUBE-NODEPORT-CONTAINER', 'KUBE-NODEPORT-HOST']],
    ]);
  });

  test('externalIPs get the physdev and local-destination portals; a specific listen IP means DNAT', () => {
    const s = state(nginx({ externalIPs: ['203.0.113.9'] }));
    const plan = planListeners(s);
    const ports = assignPorts(plan, { base: 5000, size: 10 });
    const text = serializeRuleset(renderUserspace({ state: s, plan, ports, host: { listenIP: '10.0.0.1', hostIP: '192.168.49.2' } }));
    assert.deepEqual(rulesOf(text, 'KUBE-PORTALS-CONTAINER'), [
      '-m comment --comment default/nginx -p tcp -m tcp --dport 80 -d 172.18.255.127/32 -j DNAT --to-destination 10.0.0.1:5000',
      '-m comment --comment default/nginx -p tcp -m tcp --dport 80 -d 203.0.113.9/32 -m physdev ! --physdev-is-in -j DNAT --to-destination 10.0.0.1:5000',
      '-m comment --comment default/nginx -p tcp -m tcp --dport 80 -d 203.0.113.9/32 -m addrtype --dst-type LOCAL -j DNAT --to-destination 10.0.0.1:5000',
    ]);
    assert.deepEqual(rulesOf(text, 'KUBE-PORTALS-HOST')[1], '-m comment --comment default/nginx -p tcp -m tcp --dport 80 -d 203.0.113.9/32 -m addrtype --dst-type LOCAL -j DNAT --to-destination 10.0.0.1:5000');
  });

  test('a service without endpoints: its proxy port is rejected in the filter table', () => {
    const s = state(cluster([service('default', 'none', { clusterIP: '172.18.255.10', ports: [{ port: 80, protocol: 'UDP' }] })]));
    const plan = planListeners(s);
    assert.equal(plan.frontends[0]?.verdict, 'reject');
    const text = serializeRuleset(renderUserspace({ state: s, plan, ports: assignPorts(plan, { base: 7000, size: 5 }), host: HOST }));
    assert.deepEqual(rulesOf(text, 'KUBE-NODEPORT-NON-LOCAL'), [
      '-m comment --comment "default/none has no endpoints" -p udp -m udp --dport 7000 -j REJECT',
    ]);
    assert.equal(rulesOf(text, 'KUBE-PORTALS-CONTAINER').length, 1, 'the ClusterIP is still redirected (to be rejected there)');
  });

  test('externalTrafficPolicy Local: outside traffic to a local-only port, pods and the node to all endpoints', () => {
    const eps = slice('default', 'web-1', 'web', [{ ip: '172.18.0.5', node: 'node-1', ready: true }, { ip: '172.18.1.5', node: 'node-2', ready: true }], [{ port: 8080 }]);
    const svc = service('default', 'web', { type: 'NodePort', clusterIP: '172.18.255.20', externalTrafficPolicy: 'Local', ports: [{ port: 80, nodePort: 30001, targetPort: 8080 }] });
    const s = state(cluster([svc], [eps]));
    const plan = planListeners(s);
    assert.deepEqual(plan.frontends.map((f) => [f.roles.join('+'), f.endpoints.map((e) => e.endpoint).join(' ')]), [
      ['internal+cluster', '172.18.0.5:8080 172.18.1.5:8080'],
      ['external', '172.18.0.5:8080'],
    ]);
    const ports = assignPorts(plan, { base: 6000, size: 10 });
    const text = serializeRuleset(renderUserspace({ state: s, plan, ports, host: HOST }));
    assert.deepEqual(rulesOf(text, 'KUBE-NODEPORT-CONTAINER'), [
      '-m comment --comment default/web -p tcp -m tcp --dport 30001 -s 172.18.0.0/16 -j REDIRECT --to-ports 6000',
      '-m comment --comment default/web -p tcp -m tcp --dport 30001 -j REDIRECT --to-ports 6001',
    ]);
    assert.deepEqual(rulesOf(text, 'KUBE-NODEPORT-HOST'), [
      '-m comment --comment default/web -p tcp -m tcp --dport 30001 -j DNAT --to-destination 192.168.49.2:6000',
    ]);
  });

  test('externalTrafficPolicy Local without a local endpoint: outside traffic is dropped', () => {
    const eps = slice('default', 'web-1', 'web', [{ ip: '172.18.1.5', node: 'node-2', ready: true }], [{ port: 80 }]);
    const svc = service('default', 'web', { type: 'NodePort', clusterIP: '172.18.255.20', externalTrafficPolicy: 'Local', ports: [{ port: 80, nodePort: 30001 }] });
    const s = state(cluster([svc], [eps]));
    const plan = planListeners(s);
    const ports = assignPorts(plan, { base: 6000, size: 10 });
    const text = serializeRuleset(renderUserspace({ state: s, plan, ports, host: HOST }));
    assert.deepEqual(rulesOf(text, 'KUBE-NODEPORT-NON-LOCAL'), [
      '-m comment --comment "default/web has no local endpoints" -p tcp -m tcp --dport 6001 -j DROP',
      '-m comment --comment default/web -p tcp -m tcp --dport 6000 -m state --state NEW -j ACCEPT',
    ]);
  });

  test('loadBalancerSourceRanges: allowed sources to the balanced port, the rest to a dropped one', () => {
    const svc = service('default', 'nginx', {
      type: 'LoadBalancer', clusterIP: '172.18.255.127', loadBalancerIngress: [{ ip: '198.51.100.50', ipMode: null, hostname: '' }],
      loadBalancerSourceRanges: ['198.51.100.1/32'], ports: [{ port: 80, nodePort: 30080 }],
    });
    const s = state(cluster([svc], [NGINX_ENDPOINTS]));
    const plan = planListeners(s);
    assert.deepEqual(plan.frontends.map((f) => `${f.roles.join('+')}:${f.verdict}`), ['internal+external:forward', 'denied:drop']);
    const text = serializeRuleset(renderUserspace({ state: s, plan, ports: assignPorts(plan, { base: 9000, size: 9 }), host: HOST }));
    const lb = rulesOf(text, 'KUBE-PORTALS-CONTAINER').filter((r) => r.includes('198.51.100.50'));
    assert.deepEqual(lb, [
      '-m comment --comment default/nginx -p tcp -m tcp --dport 80 -d 198.51.100.50/32 -s 198.51.100.1/32 -j REDIRECT --to-ports 9000',
      '-m comment --comment default/nginx -p tcp -m tcp --dport 80 -d 198.51.100.50/32 -j REDIRECT --to-ports 9001',
    ]);
    assert.ok(rulesOf(text, 'KUBE-NODEPORT-NON-LOCAL').includes('-m comment --comment "default/nginx traffic from outside loadBalancerSourceRanges" -p tcp -m tcp --dport 9001 -j DROP'));
  });

  test('SCTP service ports are skipped with kube-proxy\'s reason', () => {
    const s = state(cluster([service('default', 'sctp', { clusterIP: '172.18.255.30', ports: [{ port: 9, protocol: 'SCTP' }] })]));
    const plan = planListeners(s);
    assert.deepEqual(plan.frontends, []);
    assert.deepEqual(plan.skipped, [{ spn: 'default/sctp', reason: 'SCTP is not supported for user space proxy' }]);
  });

  test('a frontend keeps its identity while its endpoints come and go', () => {
    const withEndpoints = planListeners(state(nginx()));
    const without = planListeners(state(cluster([service('default', 'nginx', { clusterIP: '172.18.255.127', ports: [{ port: 80 }] })])));
    assert.deepEqual(withEndpoints.frontends.map((f) => f.id), without.frontends.map((f) => f.id));
    assert.deepEqual(withEndpoints.frontends.map((f) => f.verdict), ['forward']);
    assert.deepEqual(without.frontends.map((f) => f.verdict), ['reject']);
  });

  test('offline text: the plan as comments, deterministic ports, valid restore input', () => {
    const s = state(nginx({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }));
    const a = offlineUserspaceText(s, { range: { base: 40000, size: 100 }, host: HOST });
    assert.equal(a, offlineUserspaceText(s, { range: { base: 40000, size: 100 }, host: HOST }));
    assert.match(a, /proxy ports allocated deterministically .*--proxy-port-range 40000-40099/);
    assert.match(a, /# {3}40000\/tcp {2}default\/nginx \[internal, external\] balanced -> 172\.18\.0\.5:80 172\.18\.0\.6:80 172\.18\.0\.7:80/);
    assert.equal(parseIptables(a).tables.length, 2);
    assert.match(offlineUserspaceText(s, { range: null, host: HOST }), /no --proxy-port-range: shown from 32768-60999; the daemon lets the kernel pick each port/);
  });

  test('jumps: portals prepended, node ports appended, as kube-proxy\'s iptablesInit', () => {
    assert.deepEqual(
      userspaceJumps().map((j) => `${j.table} ${j.chain} ${j.position} ${j.words.join(' ')}`),
      [
        'nat PREROUTING prepend -m comment --comment handle ClusterIPs; NOTE: this must be before the NodePort rules -j KUBE-PORTALS-CONTAINER',
        'nat OUTPUT prepend -m comment --comment handle ClusterIPs; NOTE: this must be before the NodePort rules -j KUBE-PORTALS-HOST',
        'nat PREROUTING append -m addrtype --dst-type LOCAL -m comment --comment handle service NodePorts; NOTE: this must be the last rule in the chain -j KUBE-NODEPORT-CONTAINER',
        'nat OUTPUT append -m addrtype --dst-type LOCAL -m comment --comment handle service NodePorts; NOTE: this must be the last rule in the chain -j KUBE-NODEPORT-HOST',
        'filter INPUT prepend -m comment --comment Ensure that non-local NodePort traffic can flow -j KUBE-NODEPORT-NON-LOCAL',
      ],
    );
  });
});
