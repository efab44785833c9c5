/**
 * Drawing a service graph (./graph.ts): a self-contained SVG (or an HTML page around it), one
 * section per entry point, laid out in columns by distance from the entry. Each edge carries its
 * probability (`text.edge-label`) and, when only some sources take it, the condition on the
 * source (`text.edge-condition`, the whole condition as its `title`) above it.
 */
import type { GraphEdge, GraphNodeKind, GraphSection, ServiceGraph } from './graph.js';

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const COLORS: Record<GraphNodeKind, string> = { entry: '#dbeafe', chain: '#f3f4f6', endpoint: '#dcfce7', verdict: '#fee2e2' };

const BOX_W = 330;
const BOX_H = 34;
/** Characters of a node's label that fit in its box (12px monospace). */
const LABEL_CHARS = 44;
const COL_GAP = 230;
/** Characters of one line of a condition that fit over the gap between two columns (11px monospace). */
const CONDITION_CHARS = 32;
const LINE = 13;
const ROW_GAP = 50;
/** Vertical distance between edges that join the same two nodes. */
const PARALLEL_GAP = 40;

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

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A condition's parts (`-s 10.0.0.0/8, ! --src-type LOCAL or ...`) on lines that fit between two columns. */
function conditionLines(condition: string): string[] {
  const lines: string[] = [];
  for (const [i, alternative] of condition.split(' or ').entries()) {
    let fresh = true;
    for (const part of alternative.split(', ')) {
      const last = lines[lines.length - 1];
      if (!fresh && last !== undefined && last.length + 2 + part.length <= CONDITION_CHARS) lines[lines.length - 1] = `${last}, ${part}`;
      else lines.push(shorten(fresh && i > 0 ? `or ${part}` : part, CONDITION_CHARS));
      fresh = false;
    }
  }
  return lines;
}

function renderEdge(e: GraphEdge, a: { x: number; y: number }, b: { x: number; y: number }, lane: number, parts: string[]): void {
  const x1 = a.x + BOX_W;
  const y1 = a.y + BOX_H / 2;
  const x2 = b.x;
  const y2 = b.y + BOX_H / 2;
  const mx = (x1 + x2) / 2;
  // parallel edges bow apart so that each keeps its own label
  const bow = lane * PARALLEL_GAP;
  // labels end just before the target, above the edge; a parallel edge's one lane lower
  const lx = x2 - 12;
  const ly = y2 - 6 + bow;
  parts.push(
    `<path class="edge" d="M ${x1} ${y1} C ${mx} ${y1 + bow}, ${mx} ${y2 + bow}, ${x2} ${y2}" fill="none" stroke="#374151" stroke-width="1.5" marker-end="url(#arrow)"/>`,
    `<text class="edge-label" x="${lx}" y="${ly}" text-anchor="end" fill="#1d4ed8" stroke="white" stroke-width="3" paint-order="stroke">${escapeXml(e.label)}</text>`,
  );
  if (e.condition !== null) {
    const lines = conditionLines(e.condition);
    const spans = lines.map((l, i) => `<tspan x="${lx}" dy="${i === 0 ? 0 : LINE}">${escapeXml(l)}</tspan>`).join('');
    parts.push(
      `<text class="edge-condition" x="${lx}" y="${ly - LINE * lines.length}" text-anchor="end" fill="#92400e" font-size="11" stroke="white" stroke-width="3" paint-order="stroke">` +
        `<title>${escapeXml(e.condition)}</title>${spans}</text>`,
    );
  }
}

function renderSection(section: GraphSection, top: number, parts: string[]): { width: number; height: number } {
  const column = columns(section);
  const rows = new Map<number, number>();
  const pos = new Map<string, { x: number; y: number }>();
  const rowOf = new Map<string, number>();
  // column by column, each node next to its first parent: children of one chain stay together, edges cross less
  const byColumn = [...section.nodes].sort((a, b) => (column.get(a.id) ?? 0) - (column.get(b.id) ?? 0));
  const parentRow = (id: string): number => Math.min(...section.edges.filter((e) => e.to === id).map((e) => rowOf.get(e.from) ?? Infinity));
  const order = new Map(section.nodes.map((n, i) => [n.id, i]));
  for (let i = 0; i < byColumn.length; ) {
    const c = column.get(byColumn[i]?.id ?? '') ?? 0;
    let j = i;
    while (j < byColumn.length && (column.get(byColumn[j]?.id ?? '') ?? 0) === c) j++;
    const group = byColumn.slice(i, j).sort((a, b) => parentRow(a.id) - parentRow(b.id) || (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
    for (const n of group) {
      const r = rows.get(c) ?? 0;
      rows.set(c, r + 1);
      rowOf.set(n.id, r);
    }
    i = j;
  }
  // the conditions over the first row's edges must stay clear of the section's title
  const firstRowLines = Math.max(0, ...section.edges.filter((e) => rowOf.get(e.to) === 0 && e.condition !== null).map((e) => conditionLines(e.condition ?? '').length));
  const headroom = Math.max(0, LINE * firstRowLines - 21);
  for (const n of section.nodes) {
    const r = rowOf.get(n.id);
    if (r !== undefined) pos.set(n.id, { x: 20 + (column.get(n.id) ?? 0) * (BOX_W + COL_GAP), y: top + 44 + headroom + r * (BOX_H + ROW_GAP) });
  }
  parts.push(`<text class="section-title" x="20" y="${top + 16}" font-size="14" font-weight="bold">${escapeXml(section.title)}</text>`);
  const lanes = new Map<string, number>();
  for (const e of section.edges) {
    const a = pos.get(e.from);
    const b = pos.get(e.to);
    if (a === undefined || b === undefined) continue;
    const pair = `${e.from}→${e.to}`;
    const lane = lanes.get(pair) ?? 0;
    lanes.set(pair, lane + 1);
    renderEdge(e, a, b, lane, parts);
  }
  for (const n of section.nodes) {
    const p = pos.get(n.id);
    if (p === undefined) continue;
    parts.push(
      `<g class="node node-${n.kind}"><rect x="${p.x}" y="${p.y}" width="${BOX_W}" height="${BOX_H}" rx="6" fill="${COLORS[n.kind]}" stroke="#6b7280"/>` +
        `<text x="${p.x + 8}" y="${p.y + BOX_H / 2 + 4}">${escapeXml(shorten(n.label, LABEL_CHARS))}</text><title>${escapeXml(n.label)}</title></g>`,
    );
  }
  const cols = Math.max(0, ...column.values()) + 1;
  const parallel = Math.max(0, ...lanes.values()) * PARALLEL_GAP;
  return { width: 40 + cols * (BOX_W + COL_GAP), height: 54 + headroom + parallel + Math.max(1, ...rows.values()) * (BOX_H + ROW_GAP) };
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
  const swatch = (kind: GraphNodeKind, text: string): string => `<span style="background:${COLORS[kind]}">${text}</span>`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeXml(graph.title)}</title>`,
    '<style>body{font-family:sans-serif;margin:16px} .legend span{display:inline-block;padding:2px 8px;margin-right:8px;border:1px solid #6b7280;border-radius:4px}</style>',
    '</head><body>',
    `<p class="legend">${swatch('entry', 'entry')}${swatch('chain', 'chain')}${swatch('endpoint', 'endpoint')}${swatch('verdict', 'REJECT / DROP / not DNATed')} ` +
      'edges: <b style="color:#1d4ed8">probability</b> that the entry\'s traffic takes them (the kernel\'s rounding), given the ' +
      '<b style="color:#92400e">condition on the source</b> above it where only some sources do</p>',
    renderSvg(graph),
    '</body></html>',
    '',
  ].join('\n');
}
