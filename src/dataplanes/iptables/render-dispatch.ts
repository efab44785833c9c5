/**
 * Steps 1–6 of reference §5.4: the rules in the shared chains (nat KUBE-SERVICES / KUBE-NODEPORTS,
 * filter KUBE-SERVICES / KUBE-EXTERNAL-SERVICES / KUBE-NODEPORTS / KUBE-PROXY-FIREWALL) that send a
 * service port's traffic to its chains or reject / drop it. Written on every sync, full or partial.
 */
import type { TableSink } from './builder.js';
import { NFACCT_LOCALHOST_NODEPORTS_ACCEPTED } from './host.js';
import { filterVerdict, type RenderContext, type ServicePortPlan } from './render-context.js';
import {
  KUBE_EXTERNAL_SERVICES,
  KUBE_NODEPORTS,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
} from './render-fixed.js';
import { comment, protoMatch } from './words.js';

export function writeDispatchRules(
  ctx: RenderContext,
  plan: ServicePortPlan,
  filter: TableSink,
  nat: TableSink,
): void {
  const { info, policy } = plan.sp;
  const { spn, proto } = plan.names;
  const proto4 = protoMatch(proto);
  const port = String(info.port);

  // 1. ClusterIP.
  if (policy.internalVerdict === 'forward') {
    nat.rule(KUBE_SERVICES, [
      ...comment(`${spn} cluster IP`), ...proto4, '-d', info.clusterIP, '--dport', port,
      '-j', plan.internalChain,
    ]);
  } else {
    const v = filterVerdict(spn, policy.internalVerdict);
    filter.rule(KUBE_SERVICES, [...comment(v.comment), ...proto4, '-d', info.clusterIP, '--dport', port, '-j', v.target]);
  }

  const external = policy.externalVerdict === 'forward' ? null : filterVerdict(spn, policy.externalVerdict);

  // 2. External IPs.
  for (const ip of info.externalIPs) {
    if (policy.hasEndpoints) {
      nat.rule(KUBE_SERVICES, [
        ...comment(`${spn} external IP`), ...proto4, '-d', ip, '--dport', port, '-j', plan.names.ext,
      ]);
    }
    if (external !== null) {
      filter.rule(KUBE_EXTERNAL_SERVICES, [
        ...comment(external.comment), ...proto4, '-d', ip, '--dport', port, '-j', external.target,
      ]);
    }
  }

  // 3. Load-balancer IPs (and the source-range firewall's final DROP).
  for (const ip of info.loadBalancerVIPs) {
    if (policy.hasEndpoints) {
      nat.rule(KUBE_SERVICES, [
        ...comment(`${spn} loadbalancer IP`), ...proto4, '-d', ip, '--dport', port, '-j', plan.loadBalancerChain,
      ]);
    }
    if (policy.usesFirewall) {
      filter.rule(KUBE_PROXY_FIREWALL, [
        ...comment(`${spn} traffic not accepted by ${plan.names.fw}`), ...proto4, '-d', ip, '--dport', port,
        '-j', 'DROP',
      ]);
    }
  }

  // 4. Load-balancer IPs without (local) endpoints.
  if (external !== null) {
    for (const ip of info.loadBalancerVIPs) {
      filter.rule(KUBE_EXTERNAL_SERVICES, [
        ...comment(external.comment), ...proto4, '-d', ip, '--dport', port, '-j', external.target,
      ]);
    }
  }

  // 5. NodePort (never subject to loadBalancerSourceRanges).
  if (info.nodePort !== 0) {
    const nodePort = String(info.nodePort);
    if (policy.hasEndpoints) {
      if (ctx.localhostNodePorts && ctx.caps.nfacctLocalhostNodePorts) {
        nat.rule(KUBE_NODEPORTS, [
          ...comment(spn), ...proto4, '-d', '127.0.0.0/8', '--dport', nodePort,
          '-m', 'nfacct', '--nfacct-name', NFACCT_LOCALHOST_NODEPORTS_ACCEPTED,
          '-j', plan.names.ext,
        ]);
      }
      nat.rule(KUBE_NODEPORTS, [...comment(spn), ...proto4, '--dport', nodePort, '-j', plan.names.ext]);
    }
    if (external !== null) {
      filter.rule(KUBE_EXTERNAL_SERVICES, [
        ...comment(external.comment), '-m', 'addrtype', '--dst-type', 'LOCAL', ...proto4, '--dport', nodePort,
        '-j', external.target,
      ]);
    }
  }

  // 6. Health check node port: accepted even without endpoints.
  if (info.healthCheckNodePort !== 0) {
    filter.rule(KUBE_NODEPORTS, [
      ...comment(`${spn} health check node port`), '-m', 'tcp', '-p', 'tcp',
      '--dport', String(info.healthCheckNodePort), '-j', 'ACCEPT',
    ]);
  }
}
