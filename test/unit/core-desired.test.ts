import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDesiredState } from '../../src/core/desired/build.js';
import { nodeEligible } from '../../src/core/desired/node.js';
import type { DesiredState, ServicePortState } from '../../src/core/desired/types.js';
import { DEFAULT_PROXY_CONFIG, type ProxyConfig } from '../../src/core/model/config.js';
import { DiagnosticSink } from '../../src/core/model/diagnostics.js';
import { EMPTY_CLUSTER, type ClusterObjects } from '../../src/core/model/objects.js';
import { endpoint, node, port, service, slice } from '../helpers/objects.js';

function first(state: DesiredState): ServicePortState {
  const sp = state.servicePorts[0];
  assert.ok(sp, 'a service port');
  return sp;
}

const config: ProxyConfig = { ...DEFAULT_PROXY_CONFIG, nodeName: 'node-1' };

function build(objects: Partial<ClusterObjects>, c: Partial<ProxyConfig> = {}, family: 'IPv4' | 'IPv6' = 'IPv4') {
  return buildDesiredState({ ...EMPTY_CLUSTER, ...objects }, { ...config, ...c }, family, new DiagnosticSink());
}

test('the article example: one service port, three endpoints sorted by ip:port string', () => {
  const s = build({
    services: [service('default', 'nginx', { clusterIP: '172.18.255.127', ports: [port({ port: 80 })] })],
    endpointSlices: [
      slice('default', 'nginx-1', 'nginx', {
        endpoints: [endpoint('172.18.0.7'), endpoint('172.18.0.5'), endpoint('172.18.0.6')],
      }),
    ],
  });
  assert.equal(s.servicePorts.length, 1);
  const sp = s.servicePorts[0];
  assert.ok(sp);
  assert.deepEqual(sp.endpoints.map((e) => e.endpoint), ['172.18.0.5:80', '172.18.0.6:80', '172.18.0.7:80']);
  assert.equal(sp.policy.internalVerdict, 'forward');
  assert.equal(sp.policy.usesClusterPolicy, true);
  assert.equal(sp.policy.usesExternalChain, false);
  assert.equal(s.masqueradeMark, 0x4000);
  assert.deepEqual(s.nodePortAddresses, { kind: 'all' });
});

test('byte-wise endpoint order puts 10.1.1.11:11 before 10.1.1.1:11', () => {
  const s = build({
    services: [service('ns', 's', { clusterIP: '10.96.0.1', ports: [port({ port: 11 })] })],
    endpointSlices: [
      slice('ns', 's-1', 's', { ports: [{ name: '', port: 11, protocol: 'TCP' }], endpoints: [endpoint('10.1.1.1'), endpoint('10.1.1.11')] }),
    ],
  });
  assert.deepEqual(first(s).endpoints.map((e) => e.endpoint), ['10.1.1.11:11', '10.1.1.1:11']);
});

test('headless, ExternalName and other-family services produce no service ports', () => {
  const s = build({
    services: [
      service('ns', 'headless', { clusterIP: 'None', ports: [port({ port: 80 })] }),
      service('ns', 'ext', { type: 'ExternalName', clusterIP: '', ports: [port({ port: 80 })] }),
      service('ns', 'v6', { clusterIP: 'fd00::1', ports: [port({ port: 80 })] }),
    ],
  });
  assert.equal(s.servicePorts.length, 0);
  const v6 = build({ services: [service('ns', 'v6', { clusterIP: 'fd00::0:1', ports: [port({ port: 80 })] })] }, {}, 'IPv6');
  assert.equal(first(v6).info.clusterIP, 'fd00::1');
  assert.equal(v6.localhostNodePorts, false);
});

test('dual-stack: each family gets its own cluster IP and endpoints', () => {
  const svc = service('ns', 'ds', {
    clusterIP: '10.96.0.5',
    clusterIPs: ['10.96.0.5', 'fd00::5'],
    ipFamilies: ['IPv4', 'IPv6'],
    ports: [port({ port: 80 })],
  });
  const slices = [
    slice('ns', 'ds-4', 'ds', { endpoints: [endpoint('10.0.0.1')] }),
    slice('ns', 'ds-6', 'ds', { addressType: 'IPv6', endpoints: [endpoint('fd00::a')] }),
  ];
  const v4 = build({ services: [svc], endpointSlices: slices });
  const v6 = build({ services: [svc], endpointSlices: slices }, {}, 'IPv6');
  assert.deepEqual(first(v4).endpoints.map((e) => e.endpoint), ['10.0.0.1:80']);
  assert.deepEqual(first(v6).endpoints.map((e) => e.endpoint), ['[fd00::a]:80']);
  assert.equal(first(v6).info.clusterIP, 'fd00::5');
});

test('eTP=Local without local endpoints: external traffic dropped, internal forwarded; health check kept', () => {
  const s = build({
    services: [
      service('ns2', 'svc2', {
        type: 'LoadBalancer',
        clusterIP: '172.30.0.42',
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 30000,
        ports: [port({ port: 80, name: 'p80', nodePort: 3001 })],
        loadBalancerIngress: [{ ip: '1.2.3.4', hostname: '', ipMode: null }, { ip: '5.5.5.5', hostname: '', ipMode: 'Proxy' }],
      }),
    ],
    endpointSlices: [slice('ns2', 'svc2-1', 'svc2', { ports: [{ name: 'p80', port: 80, protocol: 'TCP' }], endpoints: [endpoint('10.180.0.2')] })],
  });
  const sp = s.servicePorts[0];
  assert.ok(sp);
  assert.deepEqual(sp.info.loadBalancerVIPs, ['1.2.3.4']);
  assert.equal(sp.info.healthCheckNodePort, 30000);
  assert.equal(sp.policy.internalVerdict, 'forward');
  assert.equal(sp.policy.externalVerdict, 'drop');
  assert.equal(sp.policy.usesExternalChain, true);
  assert.equal(sp.policy.usesLocalPolicy, false);
});

test('healthCheckNodePort is ignored unless LoadBalancer with eTP=Local', () => {
  const s = build({
    services: [service('ns', 's', { type: 'NodePort', clusterIP: '10.0.0.9', externalTrafficPolicy: 'Local', healthCheckNodePort: 30000, ports: [port({ port: 80, nodePort: 30080 })] })],
  });
  assert.equal(first(s).info.healthCheckNodePort, 0);
  assert.equal(first(s).info.externalPolicyLocal, true);
  assert.equal(first(s).policy.externalVerdict, 'reject');
});

test('endpoints: local by node name; terminating duplicates never replace; hints kept', () => {
  const s = build({
    services: [service('ns', 's', { clusterIP: '10.0.0.9', ports: [port({ port: 80 })] })],
    endpointSlices: [
      slice('ns', 'a', 's', { endpoints: [endpoint('10.0.0.1', { nodeName: 'node-1' })] }),
      slice('ns', 'b', 's', { endpoints: [endpoint('10.0.0.1', { conditions: { ready: false, serving: true, terminating: true } })] }),
    ],
  });
  const e = first(s).endpoints[0];
  assert.ok(e);
  assert.equal(e.isLocal, true);
  assert.equal(e.terminating, false);
});

test('label filters: service-proxy-name and headless objects are not proxied', () => {
  const svc = service('ns', 's', { clusterIP: '10.0.0.9', ports: [port({ port: 80 })] });
  const other = { ...svc, meta: { ...svc.meta, labels: { 'service.kubernetes.io/service-proxy-name': 'other' } } };
  assert.equal(build({ services: [other] }).servicePorts.length, 0);
  assert.equal(build({ services: [other] }, { serviceProxyName: 'other' }).servicePorts.length, 1);
  assert.equal(build({ services: [svc] }, { serviceProxyName: 'other' }).servicePorts.length, 0);
});

test('local detector, node IPs and nodePortAddresses', () => {
  const nodes = [node('node-1', ['192.168.0.2', 'fd00::2'], ['10.244.1.0/24'])];
  const s = build({ nodes }, { clusterCIDRs: ['10.244.0.0/16', 'fd01::/48'] });
  assert.deepEqual(s.localDetector, { kind: 'cidr', cidr: '10.244.0.0/16' });
  assert.deepEqual(s.nodeIPs, ['192.168.0.2']);
  const n = build({ nodes }, { detectLocalMode: 'NodeCIDR' });
  assert.deepEqual(n.localDetector, { kind: 'cidr', cidr: '10.244.1.0/24' });
  const p = build({ nodes }, { nodePortAddresses: ['192.168.0.0/24', '127.0.0.0/8'] });
  assert.deepEqual(p.nodePortAddresses, { kind: 'ips', ips: ['192.168.0.2', '127.0.0.1'] });
  const primary = build({ nodes }, { nodePortAddresses: ['primary'] });
  assert.deepEqual(primary.nodePortAddresses, { kind: 'ips', ips: ['192.168.0.2'] });
  const otherFamily = build({ nodes }, { nodePortAddresses: ['fd00::/64'] });
  assert.deepEqual(otherFamily.nodePortAddresses, { kind: 'all' });
});

test('LB source ranges that contain the node IP are flagged', () => {
  const svc = service('ns', 'lb', {
    type: 'LoadBalancer',
    clusterIP: '10.0.0.9',
    loadBalancerSourceRanges: [' 192.168.0.0/16 '],
    loadBalancerIngress: [{ ip: '1.2.3.4', hostname: '', ipMode: 'VIP' }],
    ports: [port({ port: 80, nodePort: 30001 })],
  });
  const slices = [slice('ns', 'lb-1', 'lb', { endpoints: [endpoint('10.1.0.1')] })];
  const s = build({ services: [svc], endpointSlices: slices, nodes: [node('node-1', ['192.168.0.2'])] });
  assert.deepEqual(first(s).info.loadBalancerSourceRanges, ['192.168.0.0/16']);
  assert.equal(first(s).policy.sourceRangesIncludeNode, true);
  assert.equal(first(s).policy.usesFirewall, true);
});

test('node eligibility: a Node being deleted or tainted for removal is not eligible', () => {
  const n = node('node-1', ['192.168.0.2']);
  assert.equal(nodeEligible(n, true), true);
  assert.equal(nodeEligible({ ...n, meta: { ...n.meta, deletionTimestamp: '2025-01-01T00:00:00Z' } }, true), false);
  assert.equal(nodeEligible({ ...n, taintKeys: ['ToBeDeletedByClusterAutoscaler'] }, true), false);
  assert.equal(nodeEligible(null, true), false, 'from the API, a missing Node is not eligible');
  assert.equal(nodeEligible(null, false), true, 'from files without a Node, it is');
});
