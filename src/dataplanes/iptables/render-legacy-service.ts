/**
 * One service port as kube-proxy v1.18 wrote it (pkg/proxy/iptables/proxier.go of release-1.18):
 * `ns/name:` names, `/32` addresses, masquerade rules in KUBE-SERVICES, KUBE-XLB-* for
 * externalTrafficPolicy=Local, a KUBE-FW-* chain for every load-balancer IP, KUBE-MARK-DROP,
 * and each balancing rule followed by its endpoint's chain.
 */
import type { ServicePortState } from '../../core/desired/types.js';
import type { EndpointInfo } from '../../core/model/service-port.js';
import type { TableSink } from './builder.js';
import { endpointChainName, servicePortChainNames, type ServicePortChainNames } from './names.js';
import {
  KUBE_EXTERNAL_SERVICES,
  KUBE_MARK_DROP,
  KUBE_MARK_MASQ,
  KUBE_NODEPORTS,
  KUBE_SERVICES,
} from './render-fixed.js';
import { comment, probability, protoMatch } from './words.js';

export interface LegacyContext {
  readonly isIPv6: boolean;
  readonly masqueradeAll: boolean;
  /** v1.18's --cluster-cidr (only CIDR-based local detection existed). */
  readonly clusterCIDR: string | null;
  /** v1.18 dropped comments when the service ports had more than 1000 endpoints in total. */
  readonly dropComments: boolean;
  /** Set when a rule jumps to KUBE-MARK-DROP (the chain is then written too). */
  usesMarkDrop: boolean;
}

/** v1.18 wrote single addresses as CIDRs. */
function toCIDR(ip: string, isIPv6: boolean): string {
  return isIPv6 ? `${ip}/128` : `${ip}/32`;
}

/** v1.18 proxied only ready endpoints (no terminating fallback, no internalTrafficPolicy). */
export function legacyEndpoints(sp: ServicePortState): readonly EndpointInfo[] {
  return sp.endpoints.filter((ep) => ep.ready);
}

export function writeLegacyServicePort(
  ctx: LegacyContext,
  sp: ServicePortState,
  filter: TableSink,
  nat: TableSink,
): string[] {
  const names = servicePortChainNames(sp.info.key, 'legacy');
  const endpoints = legacyEndpoints(sp);
  const hasEndpoints = endpoints.length > 0;
  const onlyLocal = sp.info.externalPolicyLocal;
  const active: string[] = [];

  if (hasEndpoints) {
    nat.declare(names.svc);
    active.push(names.svc);
  }
  if (onlyLocal) {
    nat.declare(names.xlb);
    active.push(names.xlb);
  }

  writeClusterIP(ctx, sp, names, hasEndpoints, filter, nat);
  writeExternalIPs(ctx, sp, names, hasEndpoints, filter, nat);
  if (hasEndpoints && sp.info.loadBalancerVIPs.length > 0) active.push(names.fw);
  writeLoadBalancerIPs(ctx, sp, names, hasEndpoints, filter, nat);
  writeNodePort(ctx, sp, names, hasEndpoints, filter, nat);
  if (!hasEndpoints) return active;

  const seps = endpoints.map((ep) => endpointChainName(names, ep.endpoint));
  for (const sep of seps) {
    nat.declare(sep);
    active.push(sep);
  }
  writeEndpoints(ctx, sp, names, endpoints, seps, nat);
  if (onlyLocal) writeXlb(ctx, sp, names, endpoints, seps, nat);
  return active;
}

function writeClusterIP(
  ctx: LegacyContext,
  sp: ServicePortState,
  names: ServicePortChainNames,
  hasEndpoints: boolean,
  filter: TableSink,
  nat: TableSink,
): void {
  const { info } = sp;
  const match = [...protoMatch(names.proto), '-d', toCIDR(info.clusterIP, ctx.isIPv6), '--dport', String(info.port)];
  if (!hasEndpoints) {
    filter.rule(KUBE_SERVICES, [...comment(`${names.spn} has no endpoints`), ...match, '-j', 'REJECT']);
    return;
  }
  const head = [...comment(`${names.spn} cluster IP`), ...match];
  if (ctx.masqueradeAll) nat.rule(KUBE_SERVICES, [...head, '-j', KUBE_MARK_MASQ]);
  else if (ctx.clusterCIDR !== null) nat.rule(KUBE_SERVICES, [...head, '!', '-s', ctx.clusterCIDR, '-j', KUBE_MARK_MASQ]);
  nat.rule(KUBE_SERVICES, [...head, '-j', names.svc]);
}

function writeExternalIPs(
  ctx: LegacyContext,
  sp: ServicePortState,
  names: ServicePortChainNames,
  hasEndpoints: boolean,
  filter: TableSink,
  nat: TableSink,
): void {
  const { info } = sp;
  for (const ip of info.externalIPs) {
    const match = [...protoMatch(names.proto), '-d', toCIDR(ip, ctx.isIPv6), '--dport', String(info.port)];
    if (!hasEndpoints) {
      filter.rule(KUBE_EXTERNAL_SERVICES, [...comment(`${names.spn} has no endpoints`), ...match, '-j', 'REJECT']);
      continue;
    }
    const head = [...comment(`${names.spn} external IP`), ...match];
    nat.rule(KUBE_SERVICES, [...head, '-j', KUBE_MARK_MASQ]);
    // Off-node traffic (not from a bridge, not from a local process) goes to the service…
    nat.rule(KUBE_SERVICES, [
      ...head, '-m', 'physdev', '!', '--physdev-is-in', '-m', 'addrtype', '!', '--src-type', 'LOCAL', '-j', names.svc,
    ]);
    // …and so does traffic to an external IP that is a local address of this node.
    nat.rule(KUBE_SERVICES, [...head, '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', names.svc]);
  }
}

function writeLoadBalancerIPs(
  ctx: LegacyContext,
  sp: ServicePortState,
  names: ServicePortChainNames,
  hasEndpoints: boolean,
  filter: TableSink,
  nat: TableSink,
): void {
  const { info } = sp;
  for (const ip of info.loadBalancerVIPs) {
    const match = [...protoMatch(names.proto), '-d', toCIDR(ip, ctx.isIPv6), '--dport', String(info.port)];
    if (!hasEndpoints) {
      filter.rule(KUBE_SERVICES, [...comment(`${names.spn} has no endpoints`), ...match, '-j', 'REJECT']);
      continue;
    }
    nat.declare(names.fw);
    nat.rule(KUBE_SERVICES, [...comment(`${names.spn} loadbalancer IP`), ...match, '-j', names.fw]);
    // v1.18 wrote the whole FW chain once per load-balancer IP.
    const head = comment(`${names.spn} loadbalancer IP`);
    let chosen = names.xlb;
    if (!info.externalPolicyLocal) {
      nat.rule(names.fw, [...head, '-j', KUBE_MARK_MASQ]);
      chosen = names.svc;
    }
    if (info.loadBalancerSourceRanges.length === 0) {
      nat.rule(names.fw, [...head, '-j', chosen]);
    } else {
      for (const range of info.loadBalancerSourceRanges) nat.rule(names.fw, [...head, '-s', range, '-j', chosen]);
      if (sp.policy.sourceRangesIncludeNode) nat.rule(names.fw, [...head, '-s', toCIDR(ip, ctx.isIPv6), '-j', chosen]);
    }
    nat.rule(names.fw, [...head, '-j', KUBE_MARK_DROP]);
    ctx.usesMarkDrop = true;
  }
}

function writeNodePort(
  ctx: LegacyContext,
  sp: ServicePortState,
  names: ServicePortChainNames,
  hasEndpoints: boolean,
  filter: TableSink,
  nat: TableSink,
): void {
  const { info } = sp;
  if (info.nodePort === 0) return;
  const nodePort = String(info.nodePort);
  if (!hasEndpoints) {
    filter.rule(KUBE_EXTERNAL_SERVICES, [
      ...comment(`${names.spn} has no endpoints`), '-m', 'addrtype', '--dst-type', 'LOCAL',
      ...protoMatch(names.proto), '--dport', nodePort, '-j', 'REJECT',
    ]);
    return;
  }
  const head = [...comment(names.spn), ...protoMatch(names.proto), '--dport', nodePort];
  if (!info.externalPolicyLocal) {
    nat.rule(KUBE_NODEPORTS, [...head, '-j', KUBE_MARK_MASQ]);
    nat.rule(KUBE_NODEPORTS, [...head, '-j', names.svc]);
  } else {
    // Localhost sources would be martians after DNAT: masquerade them.
    nat.rule(KUBE_NODEPORTS, [...head, '-s', ctx.isIPv6 ? '::1/128' : '127.0.0.0/8', '-j', KUBE_MARK_MASQ]);
    nat.rule(KUBE_NODEPORTS, [...head, '-j', names.xlb]);
  }
}

function writeEndpoints(
  ctx: LegacyContext,
  sp: ServicePortState,
  names: ServicePortChainNames,
  endpoints: readonly EndpointInfo[],
  seps: readonly string[],
  nat: TableSink,
): void {
  const head = ctx.dropComments ? [] : comment(names.spn);
  const affinity = sp.info.sessionAffinity;
  if (affinity.type === 'ClientIP') {
    for (const sep of seps) {
      nat.rule(names.svc, [
        ...head, '-m', 'recent', '--name', sep, '--rcheck', '--seconds', String(affinity.timeoutSeconds), '--reap',
        '-j', sep,
      ]);
    }
  }
  const n = endpoints.length;
  endpoints.forEach((ep, i) => {
    const sep = seps[i] ?? '';
    const balance = [...head];
    if (i < n - 1) balance.push('-m', 'statistic', '--mode', 'random', '--probability', probability(n - i));
    nat.rule(names.svc, [...balance, '-j', sep]);
    nat.rule(sep, [...head, '-s', toCIDR(ep.ip, ctx.isIPv6), '-j', KUBE_MARK_MASQ]);
    const dnat = [...head];
    if (affinity.type === 'ClientIP') dnat.push('-m', 'recent', '--name', sep, '--set');
    nat.rule(sep, [...dnat, ...protoMatch(names.proto), '-j', 'DNAT', '--to-destination', ep.endpoint]);
  });
}

function writeXlb(
  ctx: LegacyContext,
  sp: ServicePortState,
  names: ServicePortChainNames,
  endpoints: readonly EndpointInfo[],
  seps: readonly string[],
  nat: TableSink,
): void {
  const { spn, xlb, svc } = names;
  if (ctx.clusterCIDR !== null) {
    nat.rule(xlb, [
      ...comment('Redirect pods trying to reach external loadbalancer VIP to clusterIP'), '-s', ctx.clusterCIDR, '-j', svc,
    ]);
  }
  nat.rule(xlb, [
    ...comment(`masquerade LOCAL traffic for ${spn} LB IP`), '-m', 'addrtype', '--src-type', 'LOCAL', '-j', KUBE_MARK_MASQ,
  ]);
  nat.rule(xlb, [
    ...comment(`route LOCAL traffic for ${spn} LB IP to service chain`), '-m', 'addrtype', '--src-type', 'LOCAL', '-j', svc,
  ]);
  const local = seps.filter((_, i) => endpoints[i]?.isLocal === true);
  if (local.length === 0) {
    nat.rule(xlb, [...comment(`${spn} has no local endpoints`), '-j', KUBE_MARK_DROP]);
    ctx.usesMarkDrop = true;
    return;
  }
  const affinity = sp.info.sessionAffinity;
  if (affinity.type === 'ClientIP') {
    for (const sep of local) {
      nat.rule(xlb, [
        ...comment(spn), '-m', 'recent', '--name', sep, '--rcheck', '--seconds', String(affinity.timeoutSeconds), '--reap',
        '-j', sep,
      ]);
    }
  }
  local.forEach((sep, i) => {
    const words = [...comment(`Balancing rule ${i} for ${spn}`)];
    if (i < local.length - 1) words.push('-m', 'statistic', '--mode', 'random', '--probability', probability(local.length - i));
    nat.rule(xlb, [...words, '-j', sep]);
  });
}
