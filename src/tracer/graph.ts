/**
 * `graph`: a picture of the chains a service's traffic walks. One section per entry point
 * (cluster IP, node ports, external and load-balancer IPs); its nodes are the entry, the
 * service's nat chains, the endpoints, and the verdicts other than a DNAT (REJECT, DROP, or
 * passing unchanged, with the table, chain and line that decided). Edges are the jumps, DNATs
 * and verdicts actually taken, labelled with the exact probability and, where only some
 * sources take them, the condition on the source (`-s 198.51.100.1/32`, `! --src-type LOCAL`).
 *
 * Each section is the engine's trace of a packet to the entry's address, through the hooks in
 * order, with the source as a variable (engine-symbolic.ts): every branch a source test opens is
 * followed, so denied sources, non-local traffic and services without endpoints show their
 * REJECT or DROP leaf beside the paths to the endpoints.
 */
import { isKproxyError } from '../core/errors.js';
import { joinHostPort } from '../core/net/ip.js';
import { runTrace } from './engine.js';
import { probeSource, type ExplainedService, type Explanation, type ServiceEntry } from './explain.js';
import type { IrProgram, IrTable } from './ir.js';
import { EMPTY_IPSETS } from './ipset.js';
import type { EngineRun, TraceLeaf, TraceProtocol } from './packet.js';
import { Rational } from './rational.js';
import { formatProbability } from './report.js';

export { renderHtml, renderSvg } from './graph-render.js';

export type GraphNodeKind = 'entry' | 'chain' | 'endpoint' | 'verdict';

export interface GraphNode {
  readonly id: string;
  readonly label: string;
  readonly kind: GraphNodeKind;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  /** The probability that the entry's traffic (meeting `condition`) takes the edge; the largest where sources differ. */
  readonly probability: Rational;
  /** The probability as shown on the edge (several, `a / b`, where sources meeting the condition differ). */
  readonly label: string;
  /**
   * What the source must be for the edge to be taken (`-s 10.0.0.0/8, ! --src-type LOCAL`; where
   * several rules make the edge, their conditions joined by ` or `); null: any source.
   */
  readonly condition: string | null;
}

/** One entry point's walk: its own nodes and edges, probabilities relative to that entry's traffic. */
export interface GraphSection {
  readonly title: string;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

export interface ServiceGraph {
  readonly title: string;
  readonly sections: readonly GraphSection[];
}

interface Entry {
  readonly label: string;
  readonly chain: string | null;
  readonly dst: string;
  readonly port: number;
  /** The node's own address for the trace (a node port's destination); null for other entries. */
  readonly local: boolean;
}

const ENTRY_LABEL: Record<ServiceEntry['kind'], string> = {
  cluster: 'cluster IP',
  external: 'external IP',
  lb: 'load balancer IP',
  nodeport: 'node port',
};

/** A node address for tracing node ports (benchmarking ranges, RFC 2544 / RFC 5180: no real node has it). */
function nodeAddress(v6: boolean): string {
  return v6 ? '2001:2::fffe' : '198.19.255.254';
}

function entriesOf(s: ExplainedService): Entry[] {
  const v6 = (s.clusterIP ?? s.entries.find((e) => e.dst !== null)?.dst ?? '').includes(':');
  return s.entries.map((e) => {
    const port = e.port ?? s.servicePort ?? 0;
    const local = e.kind === 'nodeport';
    const dst = local ? nodeAddress(v6) : (e.dst ?? s.clusterIP ?? (v6 ? '2001:2::2' : '198.18.0.2'));
    const where = local ? `${port}` : joinHostPort(dst, port);
    return { label: `${ENTRY_LABEL[e.kind]} ${where}`, chain: e.chain, dst, port, local };
  });
}

/** The nat chains reachable from `start` (the service's chains, KUBE-MARK-MASQ included). */
function serviceChains(nat: IrTable | undefined, start: string | null): Set<string> {
  const seen = new Set<string>();
  const todo = start === null ? [] : [start];
  while (todo.length > 0) {
    const name = todo.pop() ?? '';
    const chain = nat?.chains.get(name);
    if (seen.has(name) || chain === undefined || chain.builtin) continue;
    seen.add(name);
    for (const r of chain.rules) if (r.action.kind === 'jump' || r.action.kind === 'goto') todo.push(r.action.chain);
  }
  return seen;
}

function leafNode(leaf: TraceLeaf): { id: string; label: string } {
  const at = leaf.decidedAt === null ? '' : ` (${leaf.decidedAt.table}/${leaf.decidedAt.chain}${leaf.decidedAt.line === null ? '' : ` line ${leaf.decidedAt.line}`})`;
  switch (leaf.verdict) {
    case 'REJECT':
    case 'DROP':
      return { id: `verdict:${leaf.verdict}${at}`, label: `${leaf.verdict}${at}` };
    case 'ACCEPT':
      return { id: 'verdict:ACCEPT', label: 'ACCEPT, not DNATed: no service here' };
    case 'NO_SERVICE':
    case 'DNAT':
      return { id: 'verdict:NO_SERVICE', label: 'NO_SERVICE: passes unchanged, not DNATed' };
  }
}

/** A chain whose rules only set marks and come back. */
function marksOnly(nat: IrTable | undefined, name: string): boolean {
  const rules = nat?.chains.get(name)?.rules ?? [];
  return rules.length > 0 && rules.every((r) => r.action.kind === 'mark');
}

/** One way an edge is taken: on a branch with these source assumptions, with this probability. */
interface Way {
  readonly key: string;
  readonly probability: Rational;
  readonly conditions: readonly string[];
}

class SectionBuilder {
  readonly nodes = new Map<string, GraphNode>();
  /** from → to → lane → ways. */
  private readonly ways = new Map<string, { from: string; to: string; lanes: Map<string, Way[]> }>();

  node(id: string, label: string, kind: GraphNodeKind): void {
    if (!this.nodes.has(id)) this.nodes.set(id, { id, label, kind });
  }

  /** `lane`: the rule that makes the edge (two rules may jump from one chain to another, on different conditions). */
  way(from: string, to: string, lane: string, way: Way): void {
    const key = `${from}→${to}`;
    const entry = this.ways.get(key) ?? { from, to, lanes: new Map<string, Way[]>() };
    entry.lanes.set(lane, [...(entry.lanes.get(lane) ?? []), way]);
    this.ways.set(key, entry);
  }

  edges(): GraphEdge[] {
    return [...this.ways.values()].map(({ from, to, lanes }) => {
      const all = [...lanes.values()].flat();
      // random alternatives on one branch add up; branches that assumed different sources are alternatives of the picture
      const byKey = new Map<string, Rational>();
      for (const w of all) byKey.set(w.key, (byKey.get(w.key) ?? Rational.ZERO).add(w.probability));
      const distinct = [...new Map([...byKey.values()].map((p) => [p.toString(), p])).values()].sort((a, b) => b.compare(a));
      // each rule's condition: what all its ways share; the edge is taken on any of them
      const alternatives = [...lanes.values()].map((ways) => {
        const first = ways[0]?.conditions ?? [];
        return first.filter((c) => ways.every((w) => w.conditions.includes(c))).join(', ');
      });
      const unconditional = alternatives.some((a) => a === '');
      return {
        from,
        to,
        probability: distinct[0] ?? Rational.ZERO,
        label: distinct.map((p) => formatProbability(p.toNumber())).join(' / '),
        condition: unconditional ? null : [...new Set(alternatives)].join(' or '),
      };
    });
  }
}

function addSteps(b: SectionBuilder, run: EngineRun, nat: IrTable | undefined, chains: ReadonlySet<string>, entry: Entry): void {
  for (const step of run.path) {
    if (!step.matched || step.position === null || step.table !== 'nat') continue;
    const rule = nat?.chains.get(step.chain)?.rules[step.position - 1];
    if (rule === undefined) continue;
    const a = rule.action;
    const inService = chains.has(step.chain);
    const way = { key: (step.assumptions ?? []).join('\n'), probability: step.probability, conditions: step.conditions ?? [] };
    const lane = `${step.chain}:${step.position}`;
    // rules of the hook chains (KUBE-SERVICES, KUBE-NODEPORTS) that lead into the service's chains start at the entry
    if ((a.kind === 'jump' || a.kind === 'goto') && chains.has(a.chain)) {
      const from = inService ? `chain:${step.chain}` : 'entry';
      // a chain that only marks (KUBE-MARK-MASQ, KUBE-MARK-DROP) is drawn beside each caller, not as one node all callers cross to
      const to = marksOnly(nat, a.chain) ? `chain:${a.chain}@${from}` : `chain:${a.chain}`;
      b.node(to, a.chain, 'chain');
      b.way(from, to, lane, way);
    } else if (a.kind === 'dnat' && inService) {
      const endpoint = joinHostPort(a.address ?? entry.dst, a.port ?? entry.port);
      b.node(`endpoint:${endpoint}`, endpoint, 'endpoint');
      b.way(`chain:${step.chain}`, `endpoint:${endpoint}`, lane, way);
    }
  }
}

function addLeaves(b: SectionBuilder, run: EngineRun, chains: ReadonlySet<string>, entry: Entry): void {
  for (const leaf of run.leaves) {
    if (leaf.verdict === 'DNAT' && leaf.endpoint !== null && leaf.decidedAt === null) continue; // the endpoint is the end
    let from = 'entry';
    if (leaf.decidedAt?.table === 'nat' && chains.has(leaf.decidedAt.chain)) from = `chain:${leaf.decidedAt.chain}`;
    else if (leaf.endpoint !== null) {
      from = `endpoint:${leaf.endpoint}`;
      b.node(from, leaf.endpoint, 'endpoint');
    } else if (entry.chain !== null && leaf.trail?.includes(`nat/${entry.chain}`) === true) from = `chain:${entry.chain}`;
    const { id, label } = leafNode(leaf);
    b.node(id, label, 'verdict');
    b.way(from, id, 'leaf', { key: (leaf.assumptions ?? []).join('\n'), probability: leaf.probability, conditions: leaf.conditions ?? [] });
  }
}

function entrySection(program: IrProgram, s: ExplainedService, entry: Entry): GraphSection {
  const b = new SectionBuilder();
  const sticky = s.affinity === null ? '' : ' — ClientIP affinity: first connections shown; a returning client keeps its endpoint';
  const name = s.named ? `${s.name}${s.port === '' ? '' : `:${s.port}`}` : `${s.name} (unnamed)`;
  const title = `${name} (${s.protocol}) ${entry.label}${sticky}`;
  b.node('entry', entry.label, 'entry');
  const nat = program.tables.get('nat');
  const chains = serviceChains(nat, entry.chain);
  try {
    const run = runTrace(
      program,
      {
        src: probeSource(entry.dst),
        dst: entry.dst,
        protocol: (['tcp', 'udp', 'sctp'].includes(s.protocol) ? s.protocol : 'tcp') as TraceProtocol,
        sport: 40000,
        dport: entry.port,
        from: 'external',
        inInterface: 'eth0',
        outInterface: 'eth0',
      },
      { nodeIPs: entry.local ? [entry.dst] : [], ipsets: EMPTY_IPSETS, symbolicSource: true },
    );
    addSteps(b, run, nat, chains, entry);
    addLeaves(b, run, chains, entry);
  } catch (e) {
    if (!isKproxyError(e)) throw e;
    b.node('verdict:untraceable', `untraceable: ${e.message}`, 'verdict');
    b.way('entry', 'verdict:untraceable', 'leaf', { key: '', probability: Rational.ONE, conditions: [] });
  }
  return { title, nodes: [...b.nodes.values()], edges: b.edges() };
}

/** The graph of one or more services (all when `only` is empty): one section per entry point. */
export function buildServiceGraph(program: IrProgram, explanation: Explanation, only: readonly ExplainedService[]): ServiceGraph {
  const services = only.length > 0 ? only : explanation.services;
  const sections = services.flatMap((s) => entriesOf(s).map((entry) => entrySection(program, s, entry)));
  const names = services.map((s) => `${s.name}${s.port === '' ? '' : `:${s.port}`}`);
  return { title: `kproxy: ${names.length === 1 ? (names[0] ?? '') : `${names.length} service ports`}`, sections };
}
