/**
 * The userspace mode's portal rules (reference B.3), rendered as an iptables Ruleset with the
 * iptables dataplane's builder: the traffic to a service address is REDIRECTed (from pods and
 * outside, PREROUTING) or DNATed to the node's address (from the node itself, OUTPUT) to the
 * port of the proxy listener that serves it.
 *
 * Each sync rewrites the five chains in one iptables-restore transaction (declaring a chain
 * flushes it), where kube-proxy added and deleted the same rules one by one with `iptables -C/-A/-D`.
 * The rules themselves are the ones kube-proxy wrote, word for word, for every service its
 * userspace mode supported. What it did not support adds rules in the same chains (see plan.ts):
 * a second proxy port when the traffic policies differ, `-s` source-range rules, and, in the
 * filter chain, REJECT / DROP for proxy ports whose traffic core's policy refuses.
 */
import type { DesiredState, LocalTrafficDetector } from '../../core/desired/types.js';
import { KproxyError } from '../../core/errors.js';
import { joinHostPort } from '../../core/net/ip.js';
import { TableBuilder, rulesetOf } from '../iptables/builder.js';
import type { Ruleset } from '../iptables/model.js';
import { filterVerdict } from '../iptables/render-context.js';
import { ifLocal } from '../iptables/words.js';
import type { Frontend, ListenerPlan, ServicePortFrontends } from './plan.js';

export const KUBE_PORTALS_CONTAINER = 'KUBE-PORTALS-CONTAINER';
export const KUBE_PORTALS_HOST = 'KUBE-PORTALS-HOST';
export const KUBE_NODEPORT_CONTAINER = 'KUBE-NODEPORT-CONTAINER';
export const KUBE_NODEPORT_HOST = 'KUBE-NODEPORT-HOST';
export const KUBE_NODEPORT_NON_LOCAL = 'KUBE-NODEPORT-NON-LOCAL';

export const USERSPACE_NAT_CHAINS: readonly string[] = [
  KUBE_PORTALS_CONTAINER, KUBE_PORTALS_HOST, KUBE_NODEPORT_CONTAINER, KUBE_NODEPORT_HOST,
];
export const USERSPACE_FILTER_CHAINS: readonly string[] = [KUBE_NODEPORT_NON_LOCAL];

/** Proxy port per frontend id. */
export type PortAssignment = ReadonlyMap<string, number>;

export interface UserspaceHost {
  /** The address the proxy listens on: `0.0.0.0` / `::` (REDIRECT) or one address (DNAT to it). */
  readonly listenIP: string;
  /** The node address node-originated traffic is DNATed to (kube-proxy's hostIP); empty = unknown. */
  readonly hostIP: string;
}

/**
 * What to do with the host chains' rules (the only ones that need hostIP) when it is unknown:
 * `fail` (the daemon: it must program them all), or `omit` them (offline rendering, which says so).
 */
export type UnknownHostIP = 'fail' | 'omit';

export interface UserspaceRenderInput {
  readonly state: DesiredState;
  readonly plan: ListenerPlan;
  readonly ports: PortAssignment;
  readonly host: UserspaceHost;
  /** Default `fail`. */
  readonly unknownHostIP?: UnknownHostIP;
}

/** The restore transaction, and the host-chain rules left out for want of the node's address. */
export interface UserspaceRender {
  readonly ruleset: Ruleset;
  /** How many rules of KUBE-PORTALS-HOST / KUBE-NODEPORT-HOST were left out (`unknownHostIP: 'omit'`). */
  readonly omittedHostRules: number;
  /** The service ports those rules were for, sorted. */
  readonly omittedServicePorts: readonly string[];
}

interface Portal {
  /** Destination address (`-d IP/32`), none for node ports. */
  readonly ip: string | null;
  readonly port: number;
  readonly physdevNotIn?: boolean;
  readonly dstLocal?: boolean;
  /** Extra matches (a source range, the local-traffic detector). */
  readonly extra?: readonly string[];
}

class Writer {
  readonly nat = new TableBuilder('nat');
  readonly filter = new TableBuilder('filter');
  private readonly anyListen: boolean;
  private readonly hostTarget: string;
  omittedHostRules = 0;
  readonly omittedServicePorts = new Set<string>();

  constructor(private readonly input: UserspaceRenderInput) {
    const { listenIP, hostIP } = input.host;
    this.anyListen = listenIP === '0.0.0.0' || listenIP === '::';
    this.hostTarget = this.anyListen ? hostIP : listenIP;
    for (const c of USERSPACE_FILTER_CHAINS) this.filter.declare(c);
    for (const c of USERSPACE_NAT_CHAINS) this.nat.declare(c);
  }

  portOf(f: Frontend): number {
    const port = this.input.ports.get(f.id);
    if (port === undefined) throw new KproxyError('E_RENDER', `${f.id}: no proxy port was assigned`);
    return port;
  }

  private cidr(ip: string): string {
    return ip.includes(':') ? `${ip}/128` : `${ip}/32`;
  }

  /** kube-proxy's iptablesCommonPortalArgs, in its argument order. */
  common(f: Frontend, p: Portal): string[] {
    const proto = f.protocol.toLowerCase();
    const words = ['-m', 'comment', '--comment', f.spn, '-p', proto, '-m', proto, '--dport', String(p.port)];
    if (p.ip !== null) words.push('-d', this.cidr(p.ip));
    if (p.physdevNotIn === true) words.push('-m', 'physdev', '!', '--physdev-is-in');
    if (p.dstLocal === true) words.push('-m', 'addrtype', '--dst-type', 'LOCAL');
    if (p.extra !== undefined) words.push(...p.extra);
    return words;
  }

  containerRule(chain: string, f: Frontend, p: Portal): void {
    const port = this.portOf(f);
    const target = this.anyListen
      ? ['-j', 'REDIRECT', '--to-ports', String(port)]
      : ['-j', 'DNAT', '--to-destination', joinHostPort(this.input.host.listenIP, port)];
    this.nat.rule(chain, [...this.common(f, p), ...target]);
  }

  hostRule(chain: string, f: Frontend, p: Portal): void {
    if (this.hostTarget === '') {
      if (this.input.unknownHostIP === 'omit') {
        this.omittedHostRules++;
        this.omittedServicePorts.add(f.spn);
        return;
      }
      throw new KproxyError('E_RENDER', `${f.spn}: the node's address is unknown (give --node-ip or a Node object)`);
    }
    const target = ['-j', 'DNAT', '--to-destination', joinHostPort(this.hostTarget, this.portOf(f))];
    this.nat.rule(chain, [...this.common(f, p), ...target]);
  }

  /** The filter rule kube-proxy wrote per node port: new connections to the proxy port are let in. */
  acceptRule(f: Frontend): void {
    this.filter.rule(KUBE_NODEPORT_NON_LOCAL, [
      ...this.common(f, { ip: null, port: this.portOf(f) }), '-m', 'state', '--state', 'NEW', '-j', 'ACCEPT',
    ]);
  }

  /** REJECT / DROP of the traffic redirected to a frontend whose verdict is not forward. */
  verdictRule(f: Frontend): void {
    if (f.verdict === 'forward') return;
    const v = filterVerdict(f.spn, f.verdict);
    const text = f.roles.includes('denied') ? `${f.spn} traffic from outside loadBalancerSourceRanges` : v.comment;
    const proto = f.protocol.toLowerCase();
    this.filter.rule(KUBE_NODEPORT_NON_LOCAL, [
      '-m', 'comment', '--comment', text, '-p', proto, '-m', proto, '--dport', String(this.portOf(f)), '-j', v.target,
    ]);
  }
}

function writeServicePort(w: Writer, sf: ServicePortFrontends, detector: LocalTrafficDetector | null, nodePortIPs: readonly (string | null)[]): void {
  const { info, policy } = sf.sp;
  const internal = sf.internal;
  const external = sf.external ?? internal;
  // Pod and node traffic to an external destination skips externalTrafficPolicy Local.
  const podShortcut = sf.cluster !== null && detector !== null ? { f: sf.cluster, extra: ifLocal(detector) } : null;
  const fromNode = sf.cluster ?? external;

  for (const f of new Set([internal, sf.external, sf.cluster, sf.denied])) if (f !== null) w.verdictRule(f);

  w.containerRule(KUBE_PORTALS_CONTAINER, internal, { ip: info.clusterIP, port: info.port });
  w.hostRule(KUBE_PORTALS_HOST, internal, { ip: info.clusterIP, port: info.port });

  for (const ip of info.externalIPs) {
    if (podShortcut !== null) w.containerRule(KUBE_PORTALS_CONTAINER, podShortcut.f, { ip, port: info.port, extra: podShortcut.extra });
    w.containerRule(KUBE_PORTALS_CONTAINER, external, { ip, port: info.port, physdevNotIn: true });
    w.containerRule(KUBE_PORTALS_CONTAINER, external, { ip, port: info.port, dstLocal: true });
    w.hostRule(KUBE_PORTALS_HOST, fromNode, { ip, port: info.port, dstLocal: true });
  }

  for (const ip of info.loadBalancerVIPs) {
    if (sf.denied === null) {
      if (podShortcut !== null) w.containerRule(KUBE_PORTALS_CONTAINER, podShortcut.f, { ip, port: info.port, extra: podShortcut.extra });
      w.containerRule(KUBE_PORTALS_CONTAINER, external, { ip, port: info.port });
      w.hostRule(KUBE_PORTALS_HOST, fromNode, { ip, port: info.port });
      continue;
    }
    const allowed = [...info.loadBalancerSourceRanges, ...(policy.sourceRangesIncludeNode ? info.loadBalancerVIPs : [])];
    for (const source of allowed) {
      const extra = ['-s', source];
      w.containerRule(KUBE_PORTALS_CONTAINER, external, { ip, port: info.port, extra });
      w.hostRule(KUBE_PORTALS_HOST, fromNode, { ip, port: info.port, extra });
    }
    w.containerRule(KUBE_PORTALS_CONTAINER, sf.denied, { ip, port: info.port });
    w.hostRule(KUBE_PORTALS_HOST, sf.denied, { ip, port: info.port });
  }

  if (info.nodePort !== 0) {
    for (const ip of nodePortIPs) {
      if (podShortcut !== null) {
        w.containerRule(KUBE_NODEPORT_CONTAINER, podShortcut.f, { ip, port: info.nodePort, extra: podShortcut.extra });
      }
      w.containerRule(KUBE_NODEPORT_CONTAINER, external, { ip, port: info.nodePort });
      w.hostRule(KUBE_NODEPORT_HOST, fromNode, { ip, port: info.nodePort });
    }
    for (const f of new Set([external, fromNode])) if (f.verdict === 'forward') w.acceptRule(f);
  }
}

function servicePortFrontends(sf: ServicePortFrontends): Frontend[] {
  return [sf.internal, sf.external, sf.cluster, sf.denied].filter((f): f is Frontend => f !== null);
}

/**
 * Service ports whose listeners all have a port: the others (no port could be had) get no
 * portal rules, so their traffic is not redirected to a port nothing listens on.
 */
export function proxiedServicePorts(plan: ListenerPlan, ports: PortAssignment): ServicePortFrontends[] {
  return plan.servicePorts.filter((sf) => servicePortFrontends(sf).every((f) => ports.has(f.id)));
}

/** The restore transaction (the five chains, declared so flushed, and refilled), with what was left out. */
export function renderUserspaceReport(input: UserspaceRenderInput): UserspaceRender {
  const w = new Writer(input);
  const { state } = input;
  const npa = state.nodePortAddresses;
  const nodePortIPs: readonly (string | null)[] = npa.kind === 'all' ? [null] : npa.ips;
  for (const sf of proxiedServicePorts(input.plan, input.ports)) writeServicePort(w, sf, state.localDetector, nodePortIPs);
  return {
    ruleset: rulesetOf(w.filter, w.nat),
    omittedHostRules: w.omittedHostRules,
    omittedServicePorts: [...w.omittedServicePorts].sort(),
  };
}

/** The restore transaction: the five chains, declared (so flushed) and refilled. */
export function renderUserspace(input: UserspaceRenderInput): Ruleset {
  return renderUserspaceReport(input).ruleset;
}
