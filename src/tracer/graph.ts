/**
 * `graph`: a picture of the chains a service's traffic walks. Nodes are the entry points
 * (cluster IP, node ports, external and load-balancer IPs), the chains, and the endpoints;
 * edges are the jumps and DNATs actually taken, labelled with the exact probability (evaluated
 * by the engine from each entry). Rendered as a self-contained SVG (or an HTML page around it),
 * laid out in columns by distance from the entry.
 */
import { formatIPv6, joinHostPort, type ParsedCIDR } from '../core/net/ip.js';
import { runTrace } from './engine.js';
import { probeSource, type ExplainedService, type Explanation } from './explain.js';
import type { IrPredicate, IrProgram } from './ir.js';
import { EMPTY_IPSETS } from './ipset.js';
import type { TraceProtocol } from './packet.js';
import { Rational } from './rational.js';
import { formatProbability } from './report.js';

export type GraphNodeKind = 'entry' | 'chain' | 'endpoint' | 'verdict';

export interface GraphNode {
  readonly id: string;
  readonly label: string;
  readonly kind: GraphNodeKind;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly probability: Rational;
  /** The probability as shown on the edge. */
  readonly label: string;
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
  readonly chain: string;
  readonly dst: string;
  readonly port: number;
  readonly src: string;
}

const ENTRY_LABEL: Record<ExplainedService['entries'][number]['kind'], string> = {
  cluster: 'cluster IP',
  external: 'external IP',
  lb: 'load balancer IP',
  nodeport: 'node port',
};

/** The last but one address of a CIDR (not the network's, unlikely to be a pod's). */
function innerAddress(cidr: ParsedCIDR): string {
  const bytes = cidr.network.bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, cidr.prefixLength - i * 8));
    return b | (0xff >> keep);
  });
  const hostBits = bytes.length * 8 - cidr.prefixLength;
  const last = bytes.length - 1;
  if (hostBits >= 2) bytes[last] = (bytes[last] ?? 1) - 1;
  return cidr.family === 'IPv4' ? bytes.join('.') : formatIPv6(bytes);
}

/**
 * A cluster-IP entry is pictured for a pod's traffic: a source inside the cluster CIDR that
 * kube-proxy's `! -s CIDR ... -j KUBE-MARK-MASQ` rule of the service chain names, if any.
 */
function podSource(program: IrProgram, chain: string): string | null {
  for (const rule of program.tables.get('nat')?.chains.get(chain)?.rules ?? []) {
    if (rule.action.kind !== 'jump' || rule.action.chain !== 'KUBE-MARK-MASQ') continue;
    const p = rule.predicates.find((x): x is Extract<IrPredicate, { kind: 'address' }> => x.kind === 'address' && x.field === 'src' && x.invert);
    const cidr = p?.cidrs[0];
    if (cidr !== undefined) return innerAddress(cidr);
  }
  return null;
}

function entriesOf(program: IrProgram, s: ExplainedService): Entry[] {
  const out: Entry[] = [];
  for (const e of s.entries) {
    const port = e.port ?? s.servicePort ?? 0;
    const dst = e.dst ?? s.clusterIP ?? '198.18.0.2';
    // from outside: a source inside the first source range, so a firewall chain lets the picture through
    const outside = s.sourceRanges[0]?.split('/')[0] ?? probeSource(dst);
    const src = e.kind === 'cluster' ? (podSource(program, e.chain) ?? outside) : outside;
    const where = e.kind === 'nodeport' ? `${port}` : joinHostPort(dst, port);
    out.push({ label: `${ENTRY_LABEL[e.kind]} ${where}`, chain: e.chain, dst, port, src });
  }
  return out;
}

function entrySection(program: IrProgram, s: ExplainedService, entry: Entry): GraphSection {
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, GraphEdge>();
  const addNode = (id: string, label: string, kind: GraphNodeKind): void => {
    if (!nodes.has(id)) nodes.set(id, { id, label, kind });
  };
  const addEdge = (from: string, to: string, probability: Rational): void => {
    const key = `${from}→${to}`;
    const existing = edges.get(key);
    const p = existing === undefined ? probability : existing.probability.add(probability);
    edges.set(key, { from, to, probability: p, label: formatProbability(p.toNumber()) });
  };
  const sticky = s.affinity === null ? '' : ' — ClientIP affinity: first connections shown; a returning client keeps its endpoint';
  const title = `${s.name}${s.port === '' ? '' : `:${s.port}`} (${s.protocol}) ${entry.label}${sticky}`;
  addNode('entry', entry.label, 'entry');
  addNode(`chain:${entry.chain}`, entry.chain, 'chain');
  addEdge('entry', `chain:${entry.chain}`, Rational.ONE);
  const run = runTrace(
    program,
    {
      src: entry.src,
      dst: entry.dst,
      protocol: (['tcp', 'udp', 'sctp'].includes(s.protocol) ? s.protocol : 'tcp') as TraceProtocol,
      sport: 40000,
      dport: entry.port,
      from: 'external',
      inInterface: 'eth0',
      outInterface: 'eth0',
    },
    { nodeIPs: [], ipsets: EMPTY_IPSETS },
    { table: 'nat', chain: entry.chain, hook: 'PREROUTING' },
  );
  const rules = program.tables.get('nat')?.chains;
  for (const step of run.path) {
    if (!step.matched || step.position === null) continue;
    const rule = rules?.get(step.chain)?.rules[step.position - 1];
    if (rule === undefined) continue;
    const from = `chain:${step.chain}`;
    const a = rule.action;
    if (a.kind === 'jump' || a.kind === 'goto') {
      addNode(`chain:${a.chain}`, a.chain, 'chain');
      addEdge(from, `chain:${a.chain}`, step.probability);
    } else if (a.kind === 'dnat') {
      const endpoint = joinHostPort(a.address ?? entry.dst, a.port ?? entry.port);
      addNode(`endpoint:${endpoint}`, endpoint, 'endpoint');
      addEdge(from, `endpoint:${endpoint}`, step.probability);
    }
  }
  if (run.leaves.every((l) => l.endpoint === null)) {
    addNode('verdict:none', 'no endpoint: not DNATed here', 'verdict');
    addEdge(`chain:${entry.chain}`, 'verdict:none', Rational.ONE);
  }
  return { title, nodes: [...nodes.values()], edges: [...edges.values()] };
}

/** The graph of one or more services (all when `only` is empty): one section per entry point. */
export function buildServiceGraph(program: IrProgram, explanation: Explanation, only: readonly ExplainedService[]): ServiceGraph {
  const services = only.length > 0 ? only : explanation.services;
  const sections = services.flatMap((s) => entriesOf(program, s).map((entry) => entrySection(program, s, entry)));
  const names = services.map((s) => `${s.name}${s.port === '' ? '' : `:${s.port}`}`);
  return { title: `kproxy: ${names.length === 1 ? (names[0] ?? '') : `${names.length} service ports`}`, sections };
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const COLORS: Record<GraphNodeKind, string> = { entry: '#dbeafe', chain: '#f3f4f6', endpoint: '#dcfce7', verdict: '#fee2e2' };

const BOX_W = 270;
const BOX_H = 34;
const COL_GAP = 130;
const ROW_GAP = 22;

/** Column of each node: its longest distance from the entry (the walk has no cycles). */
function columns(section: GraphSection): Map<string, number> {
  const column = new Map<string, number>([['entry', 0]]);
  for (let round = 0; round < section.nodes.length; round++) {
    let changed = false;
    for (const e of section.edges) {
      const c = column.get(e.from);
      if (c !== undefined && (column.get(e.to) ?? -1) < c + 1 && c + 1 < section.nodes.length) {
        column.set(e.to, c + 1);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return column;
}

function renderSection(section: GraphSection, top: number, parts: string[]): { width: number; height: number } {
  const column = columns(section);
  const rows = new Map<number, number>();
  const pos = new Map<string, { x: number; y: number }>();
  for (const n of section.nodes) {
    const c = column.get(n.id) ?? 0;
    const r = rows.get(c) ?? 0;
    rows.set(c, r + 1);
    pos.set(n.id, { x: 20 + c * (BOX_W + COL_GAP), y: top + 30 + r * (BOX_H + ROW_GAP) });
  }
  parts.push(`<text class="section-title" x="20" y="${top + 16}" font-size="14" font-weight="bold">${escapeXml(section.title)}</text>`);
  for (const e of section.edges) {
    const a = pos.get(e.from);
    const b = pos.get(e.to);
    if (a === undefined || b === undefined) continue;
    const x1 = a.x + BOX_W;
    const y1 = a.y + BOX_H / 2;
    const x2 = b.x;
    const y2 = b.y + BOX_H / 2;
    const mx = (x1 + x2) / 2;
    parts.push(
      `<path class="edge" d="M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}" fill="none" stroke="#374151" stroke-width="1.5" marker-end="url(#arrow)"/>`,
      `<text class="edge-label" x="${x2 - 10}" y="${y2 - 7}" text-anchor="end" fill="#1d4ed8">${escapeXml(e.label)}</text>`,
    );
  }
  for (const n of section.nodes) {
    const p = pos.get(n.id);
    if (p === undefined) continue;
    const shown = n.label.length > 36 ? `${n.label.slice(0, 35)}…` : n.label;
    parts.push(
      `<g class="node node-${n.kind}"><rect x="${p.x}" y="${p.y}" width="${BOX_W}" height="${BOX_H}" rx="6" fill="${COLORS[n.kind]}" stroke="#6b7280"/>` +
        `<text x="${p.x + 8}" y="${p.y + BOX_H / 2 + 4}">${escapeXml(shown)}</text><title>${escapeXml(n.label)}</title></g>`,
    );
  }
  const cols = Math.max(0, ...column.values()) + 1;
  return { width: 40 + cols * (BOX_W + COL_GAP), height: 40 + Math.max(1, ...rows.values()) * (BOX_H + ROW_GAP) };
}

/** Sections stacked top to bottom, each laid out in columns by distance from its entry. */
export function renderSvg(graph: ServiceGraph): string {
  const body: string[] = [];
  let top = 50;
  let width = 400;
  for (const section of graph.sections) {
    const size = renderSection(section, top, body);
    top += size.height + 10;
    width = Math.max(width, size.width);
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top}" viewBox="0 0 ${width} ${top}" font-family="monospace" font-size="12">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#374151"/></marker></defs>',
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="20" y="30" font-size="16" font-weight="bold">${escapeXml(graph.title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

export function renderHtml(graph: ServiceGraph): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeXml(graph.title)}</title>`,
    '<style>body{font-family:sans-serif;margin:16px} .legend span{display:inline-block;padding:2px 8px;margin-right:8px;border:1px solid #6b7280;border-radius:4px}</style>',
    '</head><body>',
    '<p class="legend"><span style="background:#dbeafe">entry</span><span style="background:#f3f4f6">chain</span><span style="background:#dcfce7">endpoint</span> edges: probability that the entry\'s traffic takes that jump (the kernel\'s rounding)</p>',
    renderSvg(graph),
    '</body></html>',
    '',
  ].join('\n');
}
