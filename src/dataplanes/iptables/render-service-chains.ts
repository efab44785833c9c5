/**
 * Steps 7–12 of reference §5.4: a service port's own nat chains (SVC, SVL, EXT, FW, SEP).
 * A partial sync writes them only for services that changed.
 */
import type { EndpointInfo } from '../../core/model/service-port.js';
import type { TableSink } from './builder.js';
import type { RenderContext, ServicePortPlan } from './render-context.js';
import { KUBE_MARK_MASQ } from './render-fixed.js';
import { comment, ifLocal, ifNotLocal, probability, protoMatch } from './words.js';

export function writeServicePortChains(ctx: RenderContext, plan: ServicePortPlan, nat: TableSink): void {
  writeInternalMasquerade(ctx, plan, nat);
  writeExternalChain(ctx, plan, nat);
  writeFirewallChain(plan, nat);
  const { policy, selection } = plan.sp;
  if (policy.usesClusterPolicy) {
    nat.declare(plan.names.svc);
    writeBalancingRules(ctx, plan, plan.names.svc, selection.clusterEndpoints, nat);
  }
  if (policy.usesLocalPolicy) {
    nat.declare(plan.names.svl);
    writeBalancingRules(ctx, plan, plan.names.svl, selection.localEndpoints, nat);
  }
  writeEndpointChains(ctx, plan, nat);
}

/** 7. Masquerade ClusterIP traffic that does not come from a local pod (or all of it). */
function writeInternalMasquerade(ctx: RenderContext, plan: ServicePortPlan, nat: TableSink): void {
  const { info, policy } = plan.sp;
  if (policy.internalVerdict !== 'forward') return;
  const match = [
    ...comment(`${plan.names.spn} cluster IP`), ...protoMatch(plan.names.proto),
    '-d', info.clusterIP, '--dport', String(info.port),
  ];
  if (ctx.state.masqueradeAll) {
    nat.rule(plan.internalChain, [...match, '-j', KUBE_MARK_MASQ]);
  } else if (ctx.detector !== null) {
    nat.rule(plan.internalChain, [...match, ...ifNotLocal(ctx.detector), '-j', KUBE_MARK_MASQ]);
  }
}

/** 8. The external-destinations chain. */
function writeExternalChain(ctx: RenderContext, plan: ServicePortPlan, nat: TableSink): void {
  const { policy, info } = plan.sp;
  if (!policy.usesExternalChain) return;
  const { spn, ext, svc } = plan.names;
  nat.declare(ext);
  if (!info.externalPolicyLocal) {
    nat.rule(ext, [...comment(`masquerade traffic for ${spn} external destinations`), '-j', KUBE_MARK_MASQ]);
  } else {
    // Pod and host traffic to an external destination is not subject to the Local policy: it
    // behaves as if it went out to the load balancer and came back in.
    if (ctx.detector !== null) {
      nat.rule(ext, [...comment(`pod traffic for ${spn} external destinations`), ...ifLocal(ctx.detector), '-j', svc]);
    }
    nat.rule(ext, [
      ...comment(`masquerade LOCAL traffic for ${spn} external destinations`),
      '-m', 'addrtype', '--src-type', 'LOCAL', '-j', KUBE_MARK_MASQ,
    ]);
    nat.rule(ext, [
      ...comment(`route LOCAL traffic for ${spn} external destinations`),
      '-m', 'addrtype', '--src-type', 'LOCAL', '-j', svc,
    ]);
  }
  if (policy.externalVerdict === 'forward') nat.rule(ext, ['-j', plan.externalPolicyChain]);
}

/** 9. The loadBalancerSourceRanges chain. */
function writeFirewallChain(plan: ServicePortPlan, nat: TableSink): void {
  const { policy, info } = plan.sp;
  if (!policy.usesFirewall) return;
  const { spn, fw, ext } = plan.names;
  nat.declare(fw);
  const head = comment(`${spn} loadbalancer IP`);
  for (const range of info.loadBalancerSourceRanges) nat.rule(fw, [...head, '-s', range, '-j', ext]);
  // A VIP that is also a local address makes node traffic arrive with the VIP as source.
  if (policy.sourceRangesIncludeNode) {
    for (const ip of info.loadBalancerVIPs) nat.rule(fw, [...head, '-s', ip, '-j', ext]);
  }
  nat.rule(fw, comment(`other traffic to ${spn} will be dropped by KUBE-PROXY-FIREWALL`));
}

/** 10/11. Affinity and probability rules from a policy chain to its endpoints. */
function writeBalancingRules(
  ctx: RenderContext,
  plan: ServicePortPlan,
  chain: string,
  endpoints: readonly EndpointInfo[],
  nat: TableSink,
): void {
  // Hot path (one rule per endpoint and policy chain): rule words are built as single arrays.
  const { spn } = plan.names;
  const affinity = plan.sp.info.sessionAffinity;
  const withComments = !ctx.largeClusterMode;
  if (affinity.type === 'ClientIP') {
    const seconds = String(affinity.timeoutSeconds);
    for (const ep of endpoints) {
      const sep = plan.sepName(ep.endpoint);
      const check = ['-m', 'recent', '--name', sep, '--rcheck', '--seconds', seconds, '--reap', '-j', sep];
      nat.rule(chain, withComments ? ['-m', 'comment', '--comment', `${spn} -> ${ep.endpoint}`, ...check] : check);
    }
  }
  const n = endpoints.length;
  for (let i = 0; i < n; i++) {
    const ep = endpoints[i] as EndpointInfo;
    const sep = plan.sepName(ep.endpoint);
    const last = i === n - 1;
    let words: string[];
    if (withComments) {
      const text = `${spn} -> ${ep.endpoint}`;
      words = last
        ? ['-m', 'comment', '--comment', text, '-j', sep]
        : ['-m', 'comment', '--comment', text, '-m', 'statistic', '--mode', 'random', '--probability', probability(n - i), '-j', sep];
    } else {
      words = last ? ['-j', sep] : ['-m', 'statistic', '--mode', 'random', '--probability', probability(n - i), '-j', sep];
    }
    nat.rule(chain, words);
  }
}

/** 12. One chain per reachable endpoint: hairpin masquerade, then DNAT. */
function writeEndpointChains(ctx: RenderContext, plan: ServicePortPlan, nat: TableSink): void {
  const { spn, proto } = plan.names;
  const clientIP = plan.sp.info.sessionAffinity.type === 'ClientIP';
  const withComments = !ctx.largeClusterMode;
  for (const ep of plan.sp.selection.allReachableEndpoints) {
    const sep = plan.sepName(ep.endpoint);
    nat.declare(sep);
    nat.rule(sep, withComments ? ['-m', 'comment', '--comment', spn, '-s', ep.ip, '-j', KUBE_MARK_MASQ] : ['-s', ep.ip, '-j', KUBE_MARK_MASQ]);
    const to = ep.endpoint;
    let dnat: string[];
    if (clientIP) {
      dnat = withComments
        ? ['-m', 'comment', '--comment', spn, '-m', 'recent', '--name', sep, '--set', '-m', proto, '-p', proto, '-j', 'DNAT', '--to-destination', to]
        : ['-m', 'recent', '--name', sep, '--set', '-m', proto, '-p', proto, '-j', 'DNAT', '--to-destination', to];
    } else {
      dnat = withComments
        ? ['-m', 'comment', '--comment', spn, '-m', proto, '-p', proto, '-j', 'DNAT', '--to-destination', to]
        : ['-m', proto, '-p', proto, '-j', 'DNAT', '--to-destination', to];
    }
    nat.rule(sep, dnat);
  }
}
