/**
 * Completing one collected service port: the chains its traffic walks, its source ranges and
 * affinity, its traffic policies, and its endpoints with exact probabilities — evaluated by the
 * engine from the service's chain, so they are exactly what `trace` gives.
 */
import { runTrace } from './engine.js';
import { rulesOf, targetChain, type Draft } from './explain-collect.js';
import type { Anomaly, ExplainedEndpoint, ExplainedService, ServiceEntry } from './explain-types.js';
import type { IrProgram, IrTable } from './ir.js';
import { EMPTY_IPSETS } from './ipset.js';
import type { TraceProtocol } from './packet.js';
import { Rational } from './rational.js';

/** Every chain reachable from `start` in a table, in discovery order. */
function reachable(table: IrTable | undefined, start: readonly string[]): string[] {
  const seen: string[] = [];
  const todo = [...start];
  while (todo.length > 0) {
    const chain = todo.shift() ?? '';
    if (seen.includes(chain) || table?.chains.has(chain) !== true) continue;
    seen.push(chain);
    for (const r of rulesOf(table, chain)) {
      const t = targetChain(r.action);
      if (t !== null) todo.push(t);
    }
  }
  return seen;
}

/** loadBalancerSourceRanges as CIDRs (as in the Service spec): the sources a KUBE-FW chain lets through. */
function sourceRanges(table: IrTable | undefined, chains: readonly string[]): string[] {
  const out = new Set<string>();
  for (const chain of chains.filter((ch) => ch.startsWith('KUBE-FW-'))) {
    for (const r of rulesOf(table, chain)) {
      const t = targetChain(r.action);
      if (t === null || t === 'KUBE-MARK-MASQ' || t === 'KUBE-MARK-DROP') continue;
      for (const p of r.predicates) {
        if (p.kind === 'address' && p.field === 'src' && !p.invert) for (const c of p.cidrs) out.add(c.text);
      }
    }
  }
  return [...out];
}

/** A source address for tracing a service's chains from outside (benchmarking ranges, RFC 2544 / RFC 5180). */
export function probeSource(dst: string): string {
  return dst.includes(':') ? '2001:2::1' : '198.18.0.1';
}

interface Distribution {
  readonly endpoints: ExplainedEndpoint[];
  readonly affinity: ExplainedService['affinity'];
}

/** The endpoints (exact probabilities) of traffic from outside that enters the service's chains at `entry`. */
function distribution(program: IrProgram, d: Draft, entry: ServiceEntry & { chain: string }, chains: readonly string[]): Distribution {
  const dst = entry.dst ?? d.clusterIP ?? '198.18.0.2';
  const run = runTrace(
    program,
    {
      src: probeSource(dst),
      dst,
      protocol: (['tcp', 'udp', 'sctp'].includes(d.protocol) ? d.protocol : 'tcp') as TraceProtocol,
      sport: 40000,
      dport: entry.port ?? d.servicePort ?? 0,
      from: 'external',
      inInterface: 'eth0',
      outInterface: 'eth0',
    },
    { nodeIPs: [], ipsets: EMPTY_IPSETS },
    { table: 'nat', chain: entry.chain, hook: 'PREROUTING' },
  );
  const byEndpoint = new Map<string, Rational>();
  let affinity: ExplainedService['affinity'] = null;
  for (const leaf of run.leaves) {
    if (leaf.endpoint !== null) byEndpoint.set(leaf.endpoint, (byEndpoint.get(leaf.endpoint) ?? Rational.ZERO).add(leaf.probability));
    if (leaf.affinity) affinity = { kind: 'ClientIP', timeoutSeconds: affinityTimeout(program, chains) };
  }
  const endpoints = [...byEndpoint].map(([address, probability]) => ({ address, probability })).sort((a, b) => (a.address < b.address ? -1 : 1));
  return { endpoints, affinity };
}

function untraceable(d: Draft, chain: string, e: unknown): Anomaly {
  return { kind: 'untraceable', table: 'nat', chain, line: null, message: `${d.name}: ${e instanceof Error ? e.message : String(e)}` };
}

export function finishService(program: IrProgram, d: Draft, anomalies: Anomaly[]): ExplainedService {
  const nat = program.tables.get('nat');
  const withChains = d.entries.filter((e): e is ServiceEntry & { chain: string } => e.chain !== null);
  const chains = reachable(nat, withChains.map((e) => e.chain)).filter((ch) => ch !== 'KUBE-MARK-MASQ');
  const entry = withChains.find((e) => e.kind === 'cluster') ?? withChains[0];
  let cluster: Distribution = { endpoints: [], affinity: null };
  if (entry !== undefined) {
    try {
      cluster = distribution(program, d, entry, chains);
    } catch (e) {
      anomalies.push(untraceable(d, entry.chain, e));
    }
  }
  const extChain = chains.find((ch) => ch.startsWith('KUBE-EXT-') || ch.startsWith('KUBE-XLB-'));
  const externallyReachable = d.nodePorts.size + d.externalIPs.size + d.loadBalancerIPs.size > 0;
  const localExternal =
    extChain !== undefined &&
    (extChain.startsWith('KUBE-XLB-') || rulesOf(nat, extChain).some((r) => r.predicates.some((p) => p.kind === 'addrtype' && p.field === 'src')));
  // externalTrafficPolicy: Local — traffic from outside reaches only this node's endpoints.
  let externalEndpoints: ExplainedEndpoint[] | null = null;
  if (localExternal && externallyReachable) {
    const extEntry = withChains.find((e) => e.chain === extChain && e.kind !== 'nodeport') ?? { kind: 'nodeport', chain: extChain, dst: null, port: null };
    try {
      externalEndpoints = distribution(program, d, extEntry, chains).endpoints;
    } catch (e) {
      if (extEntry.chain !== entry?.chain) anomalies.push(untraceable(d, extEntry.chain, e));
    }
  }
  return {
    name: d.name,
    named: d.named,
    port: d.port,
    protocol: d.protocol,
    clusterIP: d.clusterIP,
    servicePort: d.servicePort,
    nodePorts: [...d.nodePorts].sort((a, b) => a - b),
    externalIPs: [...d.externalIPs].sort(),
    loadBalancerIPs: [...d.loadBalancerIPs].sort(),
    sourceRanges: sourceRanges(nat, chains),
    healthCheckNodePort: d.healthCheckNodePort,
    affinity: cluster.affinity,
    internalTrafficPolicy: d.internalLocal || d.entries.some((e) => e.kind === 'cluster' && e.chain?.startsWith('KUBE-SVL-') === true) ? 'Local' : 'Cluster',
    externalTrafficPolicy: externallyReachable ? (localExternal ? 'Local' : 'Cluster') : null,
    withoutEndpoints: d.withoutEndpoints,
    endpoints: cluster.endpoints,
    externalEndpoints,
    chains,
    entries: d.entries,
  };
}

function affinityTimeout(program: IrProgram, chains: readonly string[]): number | null {
  const nat = program.tables.get('nat');
  for (const chain of chains) {
    for (const r of rulesOf(nat, chain)) {
      for (const p of r.predicates) if (p.kind === 'recent' && p.command === 'rcheck') return p.seconds;
    }
  }
  return null;
}
