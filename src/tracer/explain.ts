/**
 * `explain`: every service port found in a dump — named from kube-proxy's rule comments (current
 * and 2018-era styles) — with its addresses, node ports, source ranges, affinity, traffic
 * policies and endpoints with exact probabilities (evaluated by the engine from the service's
 * chain), plus anomalies: services without endpoints, unreachable and stale chains, endpoint
 * chains no service uses, jumps to missing chains, rules shadowed by earlier ones.
 */
import type { TableName } from '../dataplanes/iptables/model.js';
import { runTrace } from './engine.js';
import { findAnomalies } from './explain-anomalies.js';
import type { IrAction, IrPredicate, IrProgram, IrRule, IrTable } from './ir.js';
import { EMPTY_IPSETS } from './ipset.js';
import type { TraceProtocol } from './packet.js';
import { Rational } from './rational.js';

export interface ExplainedEndpoint {
  readonly address: string;
  readonly probability: Rational;
}

export interface ExplainedService {
  /**
   * `namespace/name`; for a service whose rules carry no comment (and no -f manifests name it),
   * its `KUBE-SVC-<hash>` chain name (the hash stands for namespace/name:port and protocol).
   */
  readonly name: string;
  /** False when the name is a chain name: neither comments nor manifests said which service it is. */
  readonly named: boolean;
  /** The port name ('' when unnamed). */
  readonly port: string;
  readonly protocol: string;
  readonly clusterIP: string | null;
  readonly servicePort: number | null;
  readonly nodePorts: readonly number[];
  readonly externalIPs: readonly string[];
  readonly loadBalancerIPs: readonly string[];
  readonly sourceRanges: readonly string[];
  readonly healthCheckNodePort: number | null;
  readonly affinity: { readonly kind: 'ClientIP'; readonly timeoutSeconds: number | null } | null;
  readonly internalTrafficPolicy: 'Cluster' | 'Local';
  readonly externalTrafficPolicy: 'Cluster' | 'Local' | null;
  /** What traffic meets when there are no (local) endpoints: the filter rule's verdict. */
  readonly withoutEndpoints: 'REJECT' | 'DROP' | null;
  readonly endpoints: readonly ExplainedEndpoint[];
  /** The nat chains its traffic walks. */
  readonly chains: readonly string[];
  /** Where its traffic enters kube-proxy's per-service chains (from KUBE-SERVICES / KUBE-NODEPORTS). */
  readonly entries: readonly ServiceEntry[];
}

export interface ServiceEntry {
  readonly kind: 'cluster' | 'external' | 'lb' | 'nodeport';
  /** The nat chain it jumps to; null when only a filter rule (REJECT or DROP: no endpoints) is there for it. */
  readonly chain: string | null;
  /** The destination address the entry rule matches (null for node ports). */
  readonly dst: string | null;
  readonly port: number | null;
}

export type AnomalyKind =
  | 'no-endpoints'
  | 'no-local-endpoints'
  | 'unreachable-chain'
  | 'orphan-endpoint-chain'
  | 'stale-chain'
  | 'missing-chain'
  | 'shadowed-rule'
  | 'untraceable';

export interface Anomaly {
  readonly kind: AnomalyKind;
  readonly table: TableName;
  readonly chain: string;
  readonly line: number | null;
  readonly message: string;
}

export interface Explanation {
  readonly services: readonly ExplainedService[];
  readonly anomalies: readonly Anomaly[];
  /** What the reader should know about the explanation (e.g. services it could not name). */
  readonly notes: readonly string[];
}

interface Draft {
  name: string;
  named: boolean;
  port: string;
  protocol: string;
  clusterIP: string | null;
  servicePort: number | null;
  nodePorts: Set<number>;
  externalIPs: Set<string>;
  loadBalancerIPs: Set<string>;
  entries: ServiceEntry[];
  healthCheckNodePort: number | null;
  withoutEndpoints: 'REJECT' | 'DROP' | null;
  /** A filter rule drops cluster-IP traffic for want of local endpoints (internalTrafficPolicy: Local). */
  internalLocal: boolean;
}

const ROLE = /^(.+?):? ?(cluster IP|external IP|loadbalancer IP|has no endpoints|has no local endpoints|health check node port|traffic not accepted by \S+)$/;

/** `ns/name:port` (current), `ns/name` (unnamed, current) or `ns/name:` (unnamed, before v1.19). */
export function splitServicePortName(spn: string): { name: string; port: string } | null {
  const slash = spn.indexOf('/');
  if (slash <= 0) return null;
  const colon = spn.indexOf(':', slash);
  if (colon < 0) return { name: spn, port: '' };
  return { name: spn.slice(0, colon), port: spn.slice(colon + 1) };
}

function hostText(rule: IrRule, field: 'src' | 'dst'): string[] {
  const out: string[] = [];
  for (const p of rule.predicates) {
    if (p.kind !== 'address' || p.field !== field || p.invert) continue;
    for (const c of p.cidrs) {
      const host = c.prefixLength === (c.family === 'IPv4' ? 32 : 128);
      out.push(host ? c.network.text : c.text);
    }
  }
  return out;
}

function dstPort(rule: IrRule): number | null {
  const p = rule.predicates.find((x): x is Extract<IrPredicate, { kind: 'port' }> => x.kind === 'port' && x.field === 'dst' && !x.invert);
  return p?.ranges[0]?.from ?? null;
}

function protocolOf(rule: IrRule): string {
  const p = rule.predicates.find((x): x is Extract<IrPredicate, { kind: 'protocol' }> => x.kind === 'protocol' && !x.invert);
  return p?.protocol ?? 'tcp';
}

function targetChain(action: IrAction): string | null {
  return action.kind === 'jump' || action.kind === 'goto' ? action.chain : null;
}

function rulesOf(table: IrTable | undefined, chain: string): readonly IrRule[] {
  return table?.chains.get(chain)?.rules ?? [];
}

/** Chain name → the service port it belongs to (from manifests), for rules without comments. */
export type ChainNameIndex = ReadonlyMap<string, { readonly name: string; readonly port: string }>;

/** kube-proxy's per-service-port chains: the hash is the same for all of one service port. */
const SERVICE_PORT_CHAIN = /^KUBE-(SVC|SVL|EXT|FW|XLB)-([A-Z0-9]+)$/;

interface Identity {
  readonly spn: string;
  readonly role: string;
  /** False: no comment or manifest names it; `spn` is its KUBE-SVC chain name. */
  readonly named: boolean;
}

function roleOfChain(chain: string): string {
  return chain.startsWith('KUBE-FW-') ? 'loadbalancer IP' : chain.startsWith('KUBE-EXT-') || chain.startsWith('KUBE-XLB-') ? 'external IP' : 'cluster IP';
}

class Collector {
  readonly drafts = new Map<string, Draft>();
  /** Filter rules that reject or drop a service address without a comment saying which service. */
  readonly uncommentedVerdicts: string[] = [];

  constructor(readonly names: ChainNameIndex) {}

  /**
   * The service port of a rule: from its comment, or else from the chain it jumps to (named by
   * the manifests, or — unnamed — by its hash, as the service port's KUBE-SVC chain).
   */
  identify(comment: string | null, chain: string): Identity | null {
    const m = comment === null ? null : ROLE.exec(comment);
    if (m !== null) return { spn: m[1] ?? '', role: m[2] ?? '', named: true };
    const role = roleOfChain(chain);
    const known = this.names.get(chain);
    if (known !== undefined) return { spn: known.port === '' ? known.name : `${known.name}:${known.port}`, role, named: true };
    const hash = SERVICE_PORT_CHAIN.exec(chain)?.[2];
    return hash === undefined ? null : { spn: `KUBE-SVC-${hash}`, role, named: false };
  }

  draft(id: Pick<Identity, 'spn' | 'named'>, protocol: string): Draft | null {
    const parts = id.named ? splitServicePortName(id.spn) : { name: id.spn, port: '' };
    if (parts === null) return null;
    const key = `${parts.name}|${parts.port}|${protocol}`;
    let d = this.drafts.get(key);
    if (d === undefined) {
      d = {
        ...parts,
        named: id.named,
        protocol,
        clusterIP: null,
        servicePort: null,
        nodePorts: new Set(),
        externalIPs: new Set(),
        loadBalancerIPs: new Set(),
        entries: [],
        healthCheckNodePort: null,
        withoutEndpoints: null,
        internalLocal: false,
      };
      this.drafts.set(key, d);
    }
    return d;
  }
}

function collectNat(program: IrProgram, c: Collector): void {
  const nat = program.tables.get('nat');
  for (const rule of rulesOf(nat, 'KUBE-SERVICES')) {
    const chain = targetChain(rule.action);
    if (chain === null || chain === 'KUBE-MARK-MASQ') continue;
    const id = c.identify(rule.comment, chain);
    if (id === null) continue;
    const d = c.draft(id, protocolOf(rule));
    if (d === null) continue;
    const dst = hostText(rule, 'dst')[0] ?? null;
    const port = dstPort(rule);
    d.servicePort ??= port;
    switch (id.role) {
      case 'cluster IP':
        d.clusterIP = dst;
        d.entries.push({ chain, dst, port, kind: 'cluster' });
        break;
      case 'external IP':
        if (dst !== null) d.externalIPs.add(dst);
        d.entries.push({ chain, dst, port, kind: 'external' });
        break;
      case 'loadbalancer IP':
        if (dst !== null) d.loadBalancerIPs.add(dst);
        d.entries.push({ chain, dst, port, kind: 'lb' });
        break;
      default:
        break;
    }
  }
  for (const rule of rulesOf(nat, 'KUBE-NODEPORTS')) {
    const chain = targetChain(rule.action);
    if (chain === null || chain === 'KUBE-MARK-MASQ') continue;
    const commented = rule.comment?.split(' ')[0];
    const id = commented === undefined ? c.identify(null, chain) : { spn: commented, named: true };
    if (id === null) continue;
    const d = c.draft(id, protocolOf(rule));
    const port = dstPort(rule);
    if (d === null || port === null) continue;
    d.nodePorts.add(port);
    if (!d.entries.some((e) => e.kind === 'nodeport' && e.port === port)) d.entries.push({ chain, dst: null, port, kind: 'nodeport' });
  }
}

function collectFilter(program: IrProgram, c: Collector): void {
  const filter = program.tables.get('filter');
  for (const chainName of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL']) {
    for (const rule of rulesOf(filter, chainName)) {
      if (rule.comment === null && (rule.action.kind === 'reject' || rule.action.kind === 'drop')) {
        const where = `${hostText(rule, 'dst')[0] ?? 'a local address'}:${dstPort(rule) ?? 'any port'}`;
        c.uncommentedVerdicts.push(`${where} (${rule.action.kind.toUpperCase()}, filter/${chainName}${rule.line === null ? '' : ` line ${rule.line}`})`);
      }
      const m = rule.comment === null ? null : ROLE.exec(rule.comment);
      if (m === null || chainName === 'KUBE-PROXY-FIREWALL') continue;
      const d = c.draft({ spn: m[1] ?? '', named: true }, protocolOf(rule));
      if (d === null) continue;
      const dst = hostText(rule, 'dst')[0] ?? null;
      const port = dstPort(rule);
      if (m[2] === 'health check node port') {
        d.healthCheckNodePort = port;
        continue;
      }
      if (m[2] !== 'has no endpoints' && m[2] !== 'has no local endpoints') continue;
      d.withoutEndpoints = rule.action.kind === 'drop' ? 'DROP' : 'REJECT';
      const localAddrType = rule.predicates.some((p) => p.kind === 'addrtype' && p.field === 'dst' && p.types.includes('LOCAL'));
      if (localAddrType && port !== null) {
        d.nodePorts.add(port);
        addEntry(d, { kind: 'nodeport', chain: null, dst: null, port });
      } else if (chainName === 'KUBE-SERVICES') {
        d.clusterIP ??= dst;
        d.servicePort ??= port;
        if (m[2] === 'has no local endpoints') d.internalLocal = true;
        addEntry(d, { kind: 'cluster', chain: null, dst, port });
      } else if (dst !== null) {
        const lb = d.loadBalancerIPs.has(dst);
        if (!lb) d.externalIPs.add(dst);
        addEntry(d, { kind: lb ? 'lb' : 'external', chain: null, dst, port });
      }
    }
  }
}

/** An entry only a filter rule shows (no nat chain), unless the nat table already has one for that address and port. */
function addEntry(d: Draft, entry: ServiceEntry): void {
  if (!d.entries.some((e) => e.dst === entry.dst && e.port === entry.port && (e.kind === entry.kind || entry.kind === 'external'))) d.entries.push(entry);
}

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

function finish(program: IrProgram, d: Draft, anomalies: Anomaly[]): ExplainedService {
  const nat = program.tables.get('nat');
  const withChains = d.entries.filter((e): e is ServiceEntry & { chain: string } => e.chain !== null);
  const chains = reachable(nat, withChains.map((e) => e.chain)).filter((ch) => ch !== 'KUBE-MARK-MASQ');
  const entry = withChains.find((e) => e.kind === 'cluster') ?? withChains[0];
  let endpoints: ExplainedEndpoint[] = [];
  let affinity: ExplainedService['affinity'] = null;
  if (entry !== undefined) {
    try {
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
      for (const leaf of run.leaves) {
        if (leaf.endpoint !== null) byEndpoint.set(leaf.endpoint, (byEndpoint.get(leaf.endpoint) ?? Rational.ZERO).add(leaf.probability));
        if (leaf.affinity) affinity = { kind: 'ClientIP', timeoutSeconds: affinityTimeout(program, chains) };
      }
      endpoints = [...byEndpoint].map(([address, probability]) => ({ address, probability })).sort((a, b) => (a.address < b.address ? -1 : 1));
    } catch (e) {
      anomalies.push({ kind: 'untraceable', table: 'nat', chain: entry.chain, line: null, message: `${d.name}: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
  const extChain = chains.find((ch) => ch.startsWith('KUBE-EXT-') || ch.startsWith('KUBE-XLB-'));
  const externallyReachable = d.nodePorts.size + d.externalIPs.size + d.loadBalancerIPs.size > 0;
  const localExternal =
    extChain !== undefined &&
    (extChain.startsWith('KUBE-XLB-') || rulesOf(nat, extChain).some((r) => r.predicates.some((p) => p.kind === 'addrtype' && p.field === 'src')));
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
    affinity,
    internalTrafficPolicy: d.internalLocal || d.entries.some((e) => e.kind === 'cluster' && e.chain?.startsWith('KUBE-SVL-') === true) ? 'Local' : 'Cluster',
    externalTrafficPolicy: externallyReachable ? (localExternal ? 'Local' : 'Cluster') : null,
    withoutEndpoints: d.withoutEndpoints,
    endpoints,
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

export function explainProgram(program: IrProgram, names: ChainNameIndex = new Map()): Explanation {
  const c = new Collector(names);
  collectNat(program, c);
  collectFilter(program, c);
  const anomalies: Anomaly[] = [];
  const services = [...c.drafts.values()]
    .sort((a, b) => Number(b.named) - Number(a.named) || (a.name < b.name ? -1 : a.name > b.name ? 1 : a.port < b.port ? -1 : a.port > b.port ? 1 : a.protocol < b.protocol ? -1 : 1))
    .map((d) => finish(program, d, anomalies));
  for (const s of services) {
    const label = `${s.name}${s.port === '' ? '' : `:${s.port}`} (${s.protocol})`;
    if (s.withoutEndpoints === 'REJECT') {
      anomalies.push({ kind: 'no-endpoints', table: 'filter', chain: 'KUBE-SERVICES', line: null, message: `${label} has no endpoints: its traffic is rejected` });
    } else if (s.withoutEndpoints === 'DROP') {
      anomalies.push({
        kind: 'no-local-endpoints',
        table: 'filter',
        chain: 'KUBE-EXTERNAL-SERVICES',
        line: null,
        message: `${label} has no endpoints on this node: traffic its traffic policy keeps local is dropped`,
      });
    } else if (s.endpoints.length === 0 && s.chains.length > 0) {
      anomalies.push({ kind: 'no-endpoints', table: 'nat', chain: s.chains[0] ?? '', line: null, message: `${label}: its chains lead to no endpoint` });
    }
  }
  anomalies.push(...findAnomalies(program));
  const sorted = [...anomalies].sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : (a.line ?? 0) - (b.line ?? 0)));
  const notes = unnamedNote(services.filter((s) => !s.named).length, names.size > 0);
  if (c.uncommentedVerdicts.length > 0) {
    notes.push(
      `filter rules without comments refuse or drop traffic to ${c.uncommentedVerdicts.join(', ')}: ` +
        'kube-proxy writes such rules for services without (local) endpoints and for load-balancer source ranges; which service each is for, no chain tells',
    );
  }
  return { services, anomalies: sorted, notes };
}

function unnamedNote(unnamed: number, manifestsGiven: boolean): string[] {
  if (unnamed === 0) return [];
  const why = manifestsGiven ? 'and the -f manifests hold no service port with their chain hashes' : 'and no -f manifests were given';
  return [
    `${unnamed} service port(s) carry no kube-proxy comments ${why}: they are listed by their KUBE-SVC chain name, whose hash stands for ` +
      'namespace/name:port and protocol; give the manifests with -f PATH to name them',
  ];
}
