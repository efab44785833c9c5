/**
 * Collecting `explain`'s service ports from a dump: kube-proxy's entry rules (KUBE-SERVICES and
 * KUBE-NODEPORTS in nat; the REJECT / DROP and health-check rules of filter), each identified
 * from its comment (current and 2018-era styles), or else from the per-service chain it jumps
 * to (named by -f manifests, or unnamed by its hash).
 */
import { NODE_ADDRESS, serviceAddressKey, type AddressNameIndex, type ChainNameIndex, type ServiceEntry } from './explain-types.js';
import type { IrAction, IrPredicate, IrProgram, IrRule, IrTable } from './ir.js';

export interface Draft {
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

export function hostText(rule: IrRule, field: 'src' | 'dst'): string[] {
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

export function dstPort(rule: IrRule): number | null {
  const p = rule.predicates.find((x): x is Extract<IrPredicate, { kind: 'port' }> => x.kind === 'port' && x.field === 'dst' && !x.invert);
  return p?.ranges[0]?.from ?? null;
}

function protocolOf(rule: IrRule): string {
  const p = rule.predicates.find((x): x is Extract<IrPredicate, { kind: 'protocol' }> => x.kind === 'protocol' && !x.invert);
  return p?.protocol ?? 'tcp';
}

export function targetChain(action: IrAction): string | null {
  return action.kind === 'jump' || action.kind === 'goto' ? action.chain : null;
}

export function rulesOf(table: IrTable | undefined, chain: string): readonly IrRule[] {
  return table?.chains.get(chain)?.rules ?? [];
}

/** kube-proxy's per-service-port chains: the hash is the same for all of one service port. */
const SERVICE_PORT_CHAIN = /^KUBE-(SVC|SVL|EXT|FW|XLB)-([A-Z0-9]+)$/;

interface Identity {
  readonly spn: string;
  readonly role: string;
  /** False: no comment or manifest names it; `spn` is its KUBE-SVC chain name. */
  readonly named: boolean;
}

/**
 * The role of an uncommented entry rule, from the chain it jumps to. Before v1.19, external IPs
 * jumped straight to KUBE-SVC-* like the cluster IP; their rules, unlike the cluster IP's, test
 * where the packet comes from or goes to (`-m physdev`, `-m addrtype`).
 */
function roleOfChain(chain: string, rule: IrRule | null): string {
  if (chain.startsWith('KUBE-FW-')) return 'loadbalancer IP';
  if (chain.startsWith('KUBE-EXT-') || chain.startsWith('KUBE-XLB-')) return 'external IP';
  const testsWhere = rule?.predicates.some((p) => p.kind === 'physdev' || p.kind === 'addrtype') === true;
  return testsWhere ? 'external IP' : 'cluster IP';
}

export class Collector {
  readonly drafts = new Map<string, Draft>();
  /** Filter rules that reject or drop a service address without a comment saying which service. */
  readonly uncommentedVerdicts: string[] = [];

  constructor(
    readonly names: ChainNameIndex,
    readonly addresses: AddressNameIndex,
  ) {}

  /**
   * The service port of a rule: from its comment, or else from the chain it jumps to (named by
   * the manifests, or — unnamed — by its hash, as the service port's KUBE-SVC chain).
   */
  identify(comment: string | null, chain: string, rule: IrRule | null = null): Identity | null {
    const m = comment === null ? null : ROLE.exec(comment);
    if (m !== null) return { spn: m[1] ?? '', role: m[2] ?? '', named: true };
    const role = roleOfChain(chain, rule);
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

export function collectNat(program: IrProgram, c: Collector): void {
  const nat = program.tables.get('nat');
  for (const rule of rulesOf(nat, 'KUBE-SERVICES')) {
    const chain = targetChain(rule.action);
    if (chain === null || chain === 'KUBE-MARK-MASQ') continue;
    const id = c.identify(rule.comment, chain, rule);
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

interface FilterRole {
  readonly spn: string;
  readonly role: string;
  /** From -f manifests: the address is a load balancer's. */
  readonly loadBalancer: boolean;
}

function isLocalDst(rule: IrRule): boolean {
  return rule.predicates.some((p) => p.kind === 'addrtype' && p.field === 'dst' && p.types.includes('LOCAL'));
}

/**
 * What a filter rule is for: from its comment; or, for a REJECT or DROP without one, from the
 * -f manifests' service addresses (kube-proxy writes a REJECT for a service without endpoints,
 * a DROP where its traffic policy finds no local endpoint). Null when neither says.
 */
function filterRole(rule: IrRule, c: Collector): FilterRole | null {
  const m = rule.comment === null ? null : ROLE.exec(rule.comment);
  if (m !== null) return { spn: m[1] ?? '', role: m[2] ?? '', loadBalancer: false };
  if (rule.comment !== null || (rule.action.kind !== 'reject' && rule.action.kind !== 'drop')) return null;
  const dst = isLocalDst(rule) ? NODE_ADDRESS : (hostText(rule, 'dst')[0] ?? null);
  const known = c.addresses.get(serviceAddressKey(protocolOf(rule), dst, dstPort(rule)));
  if (known === undefined) return null;
  const role = rule.action.kind === 'drop' ? 'has no local endpoints' : 'has no endpoints';
  return { spn: known.port === '' ? known.name : `${known.name}:${known.port}`, role, loadBalancer: known.loadBalancer };
}

export function collectFilter(program: IrProgram, c: Collector): void {
  const filter = program.tables.get('filter');
  for (const chainName of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL']) {
    for (const rule of rulesOf(filter, chainName)) {
      const m = chainName === 'KUBE-PROXY-FIREWALL' ? null : filterRole(rule, c);
      // With -f manifests, an uncommented DROP of a load balancer's address is its source-range check (shown as its source ranges).
      const sourceRangeDrop = chainName === 'KUBE-PROXY-FIREWALL' && c.addresses.has(serviceAddressKey(protocolOf(rule), hostText(rule, 'dst')[0] ?? null, dstPort(rule)));
      if (rule.comment === null && m === null && !sourceRangeDrop && (rule.action.kind === 'reject' || rule.action.kind === 'drop')) {
        const where = `${hostText(rule, 'dst')[0] ?? 'a local address'}:${dstPort(rule) ?? 'any port'}`;
        c.uncommentedVerdicts.push(`${where} (${rule.action.kind.toUpperCase()}, filter/${chainName}${rule.line === null ? '' : ` line ${rule.line}`})`);
      }
      if (m === null) continue;
      const d = c.draft({ spn: m.spn, named: true }, protocolOf(rule));
      if (d === null) continue;
      const dst = hostText(rule, 'dst')[0] ?? null;
      const port = dstPort(rule);
      if (m.role === 'health check node port') {
        d.healthCheckNodePort = port;
        continue;
      }
      if (m.role !== 'has no endpoints' && m.role !== 'has no local endpoints') continue;
      d.withoutEndpoints = rule.action.kind === 'drop' ? 'DROP' : 'REJECT';
      if (isLocalDst(rule) && port !== null) {
        d.nodePorts.add(port);
        addEntry(d, { kind: 'nodeport', chain: null, dst: null, port });
      } else if (chainName === 'KUBE-SERVICES') {
        d.clusterIP ??= dst;
        d.servicePort ??= port;
        if (m.role === 'has no local endpoints') d.internalLocal = true;
        addEntry(d, { kind: 'cluster', chain: null, dst, port });
      } else if (dst !== null) {
        const lb = d.loadBalancerIPs.has(dst) || m.loadBalancer;
        if (lb) d.loadBalancerIPs.add(dst);
        else d.externalIPs.add(dst);
        addEntry(d, { kind: lb ? 'lb' : 'external', chain: null, dst, port });
      }
    }
  }
}

/** An entry only a filter rule shows (no nat chain), unless the nat table already has one for that address and port. */
function addEntry(d: Draft, entry: ServiceEntry): void {
  if (!d.entries.some((e) => e.dst === entry.dst && e.port === entry.port && (e.kind === entry.kind || entry.kind === 'external'))) d.entries.push(entry);
}
