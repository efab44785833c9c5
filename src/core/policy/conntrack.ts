/**
 * Which UDP conntrack entries are stale after a sync (kube-proxy's CleanStaleEntries,
 * reference §6): an entry to a service IP or node port whose reply source is not a serving
 * endpoint of that UDP service any more would blackhole the client, so it is deleted.
 * Unlike kube-proxy, sets are keyed by (IP, port) so two UDP ports on one IP do not overwrite
 * each other (kube-proxy's IP-only map is a known quirk).
 */
import type { DesiredState } from '../desired/types.js';

export interface ConntrackEntry {
  /** Lower-case protocol name as conntrack prints it (udp, tcp, sctp, icmp…). */
  readonly protocol: string;
  readonly origDst: string;
  readonly origDstPort: number;
  readonly replySrc: string;
}

export interface ConntrackDeletion {
  readonly origDst: string | null;
  readonly origDstPort: number | null;
  readonly replySrc: string;
}

interface UdpTargets {
  readonly byServiceIP: Map<string, Set<string>>;
  readonly byNodePort: Map<number, Set<string>>;
}

function udpTargets(state: DesiredState): UdpTargets {
  const byServiceIP = new Map<string, Set<string>>();
  const byNodePort = new Map<number, Set<string>>();
  const add = <K>(m: Map<K, Set<string>>, k: K, ips: readonly string[]): void => {
    const set = m.get(k) ?? new Set<string>();
    for (const ip of ips) set.add(ip);
    m.set(k, set);
  };
  for (const sp of state.servicePorts) {
    if (sp.info.key.protocol !== 'UDP') continue;
    const serving = sp.endpoints.filter((e) => e.serving).map((e) => e.ip);
    for (const ip of [sp.info.clusterIP, ...sp.info.externalIPs, ...sp.info.loadBalancerVIPs]) {
      add(byServiceIP, `${ip}|${sp.info.port}`, serving);
    }
    if (sp.info.nodePort !== 0) add(byNodePort, sp.info.nodePort, serving);
  }
  return { byServiceIP, byNodePort };
}

export function staleConntrackEntries(
  state: DesiredState,
  entries: readonly ConntrackEntry[],
): ConntrackDeletion[] {
  const targets = udpTargets(state);
  const out = new Map<string, ConntrackDeletion>();
  for (const e of entries) {
    if (e.protocol !== 'udp') continue;
    const svc = targets.byServiceIP.get(`${e.origDst}|${e.origDstPort}`);
    if (svc !== undefined && !svc.has(e.replySrc)) {
      out.set(`ip|${e.origDst}|${e.origDstPort}|${e.replySrc}`, {
        origDst: e.origDst,
        origDstPort: e.origDstPort,
        replySrc: e.replySrc,
      });
      continue;
    }
    const np = targets.byNodePort.get(e.origDstPort);
    if (np !== undefined && !np.has(e.replySrc) && svc === undefined) {
      out.set(`np|${e.origDstPort}|${e.replySrc}`, { origDst: null, origDstPort: e.origDstPort, replySrc: e.replySrc });
    }
  }
  return [...out.values()];
}

/** Whether a sync that touched these services needs a conntrack cleanup (a UDP port before or after). */
export function conntrackCleanupRequired(
  previous: DesiredState | null,
  next: DesiredState,
  changedServices: readonly string[],
): boolean {
  const changed = new Set(changedServices);
  const hasUdp = (s: DesiredState | null): boolean =>
    s?.servicePorts.some(
      (sp) => sp.info.key.protocol === 'UDP' && changed.has(`${sp.info.key.namespace}/${sp.info.key.name}`),
    ) ?? false;
  return hasUdp(previous) || hasUdp(next);
}
