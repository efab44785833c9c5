/**
 * loadBalancerSourceRanges of which none can be parsed: kube-proxy drops them all and then
 * filters nothing (the load balancer is open to every source). kproxy renders the same, and says
 * so next to the errors about the ranges themselves.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runKproxy as kproxy } from '../helpers/cli.js';
import { decodeYaml } from './k8s-helpers.js';

const lb = (ranges: string): string => `apiVersion: v1
kind: Service
metadata: {name: lb, namespace: default}
spec:
  type: LoadBalancer
  clusterIP: 10.0.0.90
  loadBalancerSourceRanges: ${ranges}
  ports: [{port: 80, nodePort: 30090}]
status: {loadBalancer: {ingress: [{ip: 192.0.2.9}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: lb-1, namespace: default, labels: {kubernetes.io/service-name: lb}}
addressType: IPv4
ports: [{name: "", port: 80, protocol: TCP}]
endpoints: [{addresses: [10.6.0.1]}]
`;

test('no parsable range left: a warning says the load balancer accepts every source', () => {
  const d = decodeYaml(lb('["bogus", "10.0.0.0/33"]'));
  assert.deepEqual(
    d.lines.filter((l) => l.includes('loadBalancerSourceRanges')),
    [
      'input.yaml:document 1: Service default/lb: spec.loadBalancerSourceRanges[0]: error: "bogus" is not a CIDR (dropped)',
      'input.yaml:document 1: Service default/lb: spec.loadBalancerSourceRanges[1]: error: "10.0.0.0/33" is not a CIDR (dropped)',
      'input.yaml:document 1: Service default/lb: spec.loadBalancerSourceRanges: warning: no range is left: as kube-proxy, kproxy then accepts load-balancer traffic from every source',
    ],
  );
  assert.deepEqual(d.objects.services[0]?.loadBalancerSourceRanges, []);
});

test('one usable range, or only empty strings: no such warning', () => {
  for (const ranges of ['["bogus", " 203.0.113.0/25 "]', '[""]', '[]']) {
    const d = decodeYaml(lb(ranges));
    assert.ok(!d.lines.some((l) => l.includes('no range is left')), `${ranges}: ${d.lines.join('\n')}`);
  }
});

test('rules: the rendered rules have no KUBE-FW chain (as kube-proxy), exit status 1 for the dropped ranges', () => {
  const r = kproxy(['rules', '-f', '-', '--hostname-override', 'node-1'], lb('["bogus"]'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /spec\.loadBalancerSourceRanges: warning: no range is left/);
  assert.doesNotMatch(r.stdout, /KUBE-FW-|KUBE-PROXY-FIREWALL -m/);
  assert.match(r.stdout, /"default\/lb loadbalancer IP" -m tcp -p tcp -d 192\.0\.2\.9 --dport 80 -j KUBE-EXT-/);
  const kept = kproxy(['rules', '-f', '-', '--hostname-override', 'node-1'], lb('["bogus", "203.0.113.0/25"]'));
  assert.match(kept.stdout, /-s 203\.0\.113\.0\/25 -j KUBE-EXT-/);
  assert.match(kept.stdout, /-A KUBE-PROXY-FIREWALL .* -d 192\.0\.2\.9 --dport 80 -j DROP/);
});
